import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type LazyHistory, lazyHistory } from '../analytics/history/lazy-history.ts';
import { openReportRuns, type ReportRuns } from '../analytics/reports/report-runs.ts';
import { createReportScheduler, type ReportScheduler } from '../analytics/reports/report-scheduler.ts';
import { createPublisher } from '../bus/publisher.ts';
import type { EventSealer, Publisher } from '../bus/publisher-port.ts';
import type { KeelConfig } from '../config/config-schema.ts';
import { kafkaConnection } from '../config/kafka-connection.ts';
import type { ConfigSources } from '../config/load-config.ts';
import { storeConnection } from '../config/store-connection.ts';
import type { DeliveryManager } from '../delivery/delivery-manager.ts';
import type { PullGroups } from '../delivery/pull/pull-groups.ts';
import type { Catalog } from '../events/catalog.ts';
import type { IngestorDefinition } from '../events/define-ingestor.ts';
import type { TopicDefinition } from '../events/define-topic.ts';
import { createMetrics, type KeelMetrics } from '../observability/metrics.ts';
import { registerCatalogSchemas } from '../registry/catalog-schemas.ts';
import type { SchemaRegistry } from '../registry/schema-registry.ts';
import { createAvroEncoder } from '../registry/wire/avro-encoder.ts';
import type { AuditLog } from '../security/audit/audit-log.ts';
import { createPostgresAuditLog } from '../security/audit/postgres/postgres-audit-log.ts';
import { createSqliteAuditLog } from '../security/audit/sqlite/sqlite-audit-log.ts';
import type { FieldEncryption } from '../security/encryption/field-encryption.ts';
import {
  type ApiKeyStore,
  createApiKeyStore,
  SECURITY_FILE_NAME,
} from '../security/identity/api-key-store.ts';
import { createAuthenticator } from '../security/identity/authenticator.ts';
import { createOidcVerifier } from '../security/identity/oidc-verifier.ts';
import type { ProjectionDefinition } from '../store/projections/projection.ts';
import { protectedEventStore } from '../store/protected-store.ts';
import { createEmbeddedGroupAdmin } from '../transport/embedded/embedded-group-admin.ts';
import { createEmbeddedTransport } from '../transport/embedded/index.ts';
import type { GroupAdmin } from '../transport/group-admin.ts';
import { createKafkaTransport } from '../transport/kafka/index.ts';
import { createKafkaGroupAdmin } from '../transport/kafka/kafka-group-admin.ts';
import type { TopicConfig, Transport } from '../transport/transport.ts';
import type { WorkflowDefinition } from '../workflows/define-workflow.ts';
import { createApp } from './app.ts';
import { type NodeClaimCheck, openNodeClaimCheck } from './blobs/node-claim-check.ts';
import { openNodeDelivery } from './delivery/open-node-delivery.ts';
import type { IdempotencyStore } from './idempotency/idempotency-store.ts';
import { openNodeIdempotency } from './idempotency/open-idempotency.ts';
import { createJobRegistry, type JobRegistry } from './jobs/job-registry.ts';
import { registerScrapeGauges } from './metrics/scrape-gauges.ts';
import { registerStoreGauges } from './metrics/store-gauges.ts';
import { openNodeEncryption } from './phi/node-encryption.ts';
import {
  type AuditRelay,
  auditTopicConfig,
  createAuditRelay,
  relayedAuditLog,
} from './security/audit-topic.ts';
import type { AuthSettings } from './security/auth-hook.ts';
import { authModeOf } from './security/auth-mode.ts';
import { httpsOf } from './security/https-files.ts';
import type { RateLimitOptions } from './security/rate-limit.ts';
import { type NodeStore, openNodeStore } from './store/open-node-store.ts';
import { createLiveTails, type LiveTailOptions, type LiveTails } from './topics/live-tail.ts';

/** File name of the embedded transport's SQLite database inside the data folder. */
export const DATA_FILE_NAME = 'keel.db';
/** File of the history database (DuckDB) in the data folder: a columnar copy of the event store for SQL. */
export const HISTORY_FILE_NAME = 'history.duckdb';
/** File of the scheduled reports' run records in the data folder. */
export const REPORTS_FILE_NAME = 'reports.db';
/** Folder of exported files in the data folder; queries may read them. */
export const EXPORTS_DIR_NAME = 'exports';

/** CloudEvents `source` of events the node itself creates. */
export const NODE_SOURCE = 'urn:keel:node';

/** What a platform node is assembled from. */
export interface NodeOptions {
  /** Validated configuration (see loadConfig). */
  config: KeelConfig;
  /** Event catalog: its topics are created at start, its types accepted. */
  catalog: Catalog;
  logger: Logger;
  /** Where each setting came from, so a rejected one is named as the operator set it. */
  sources?: ConfigSources;
  /** Checks every API answer against its schema (for tests: a mismatch answers 500); default false. */
  checkAnswers?: boolean;
  /** Live tail tuning (heartbeat, poll, slow-client bounds); the defaults otherwise. */
  liveTail?: LiveTailOptions;
  /** Folder of the built web console served at `/`; the package's `dist/console` when absent. */
  consoleDir?: string;
  /** Workflow definitions the node runs (the catalog module's `workflows` export); none: it only shows instances. */
  workflows?: readonly WorkflowDefinition[];
  /** Projection definitions the API may rebuild (the catalog module's `projections` export). */
  projections?: readonly ProjectionDefinition[];
  /** Formats taken at `POST /v1/ingest/<name>` (the catalog module's `ingestors` export). */
  ingestors?: readonly IngestorDefinition[];
  /** Scheduled reports as data (the catalog module's `reports` export), checked and started with the node. */
  reports?: readonly unknown[];
}

/** A running (or ready to run) platform node: transport, metrics, publisher and HTTP API. */
export interface KeelNode {
  readonly app: FastifyInstance;
  readonly transport: Transport;
  readonly metrics: KeelMetrics;
  readonly publisher: Publisher;
  readonly catalog: Catalog;
  /** Consumer group administration on the transport (list, describe, reset). */
  readonly groupAdmin: GroupAdmin;
  /** Long work behind the API (in memory: a restart forgets it). */
  readonly jobs: JobRegistry;
  /** The live tails streaming now (server-sent events). */
  readonly liveTails: LiveTails;
  /** The (source, id) table of idempotent publish; undefined when turned off (retention 0). */
  readonly idempotency: IdempotencyStore | undefined;
  /** The event store and the workflow engine on it (`KEEL_STORE`). */
  readonly store: NodeStore;
  /** Field encryption of sensitive fields; undefined when no master key is configured and none are declared. */
  readonly encryption: FieldEncryption | undefined;
  /** Push subscriptions to HTTP endpoints (stored in the node's SQLite file). */
  readonly delivery: DeliveryManager;
  /** Consumer groups served over HTTP (`/v1/consumers`). */
  readonly pull: PullGroups;
  /** The API keys (`<dataDir>/security.db`). */
  readonly keys: ApiKeyStore;
  /** SQL over the event store (`<dataDir>/history.duckdb`) and the exports folder, opened on first use. */
  readonly history: LazyHistory;
  /** The audit trail: in `security.db`, or in PostgreSQL when the store is there; each record also goes to `keel.audit`. */
  readonly audit: AuditLog;
  /** Forwards the audit trail to the `keel.audit` topic. */
  readonly auditRelay: AuditRelay;
  /** Large data through the blob folder (`KEEL_CLAIM_CHECK_BYTES`); undefined when not configured. */
  readonly claimCheck: NodeClaimCheck | undefined;
  /** Whether requests must authenticate (`KEEL_AUTH`). */
  readonly authMode: 'required' | 'off';
  /** Absolute path of the node's SQLite file: the embedded log, and the idempotency table on either transport. */
  readonly dataFile: string;
  /** `http://host:port` it listens on once started (the real port when configured with 0). */
  readonly url: string | undefined;
  /** Creates the catalog's topics and starts listening; resolves with the URL. */
  start(): Promise<string>;
  /** Stops accepting requests, finishes those in flight, closes the transport; safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The node's parts along the data path: encryption, transport, metrics, publisher, store, idempotency, delivery. */
function openNodeParts(
  options: NodeOptions,
  authMode: ReturnType<typeof authModeOf>,
  nodeUrl: () => string | undefined,
) {
  const { config, catalog, logger } = options;
  // Before anything opens: a catalog with sensitive fields and no usable master key stops here.
  const encryption = openNodeEncryption(config, catalog, storeConnection(config, options.sources));

  mkdirSync(config.dataDir, { recursive: true });
  const dataFile = join(config.dataDir, DATA_FILE_NAME);
  const { transport, groupAdmin } = openTransport(config, options, dataFile);
  const metrics = createMetrics({ processMetrics: true });
  const keys = createApiKeyStore({ path: join(config.dataDir, SECURITY_FILE_NAME) });
  const auditTable = openAuditLog(config, options.sources);
  const auditRelay = createAuditRelay({
    log: auditTable,
    transport,
    topic: config.auditTopic,
    logger: logger.child({ component: 'audit' }),
    registry: metrics.registry,
  });
  const audit = relayedAuditLog(auditTable, auditRelay);
  const auth = { ...authSettings(config, authMode, keys, metrics), audit, auditTopic: config.auditTopic };
  registerScrapeGauges({ registry: metrics.registry, transport, groupAdmin, logger });
  const claimCheck = openNodeClaimCheck({
    config,
    catalog,
    registry: metrics.registry,
    logger: logger.child({ component: 'claim-check' }),
    sources: options.sources,
  });
  const publisher = createPublisher({
    transport,
    catalog,
    source: NODE_SOURCE,
    metrics,
    logger: logger.child({ component: 'publisher' }),
    maxEventBytes: config.maxEventBytes,
    ...rewriters(encryption, catalog, () => ({ registry: nodeStore.registry, url: nodeUrl() }), claimCheck),
  });

  const nodeStore = openNodeStore({
    connection: storeConnection(config, options.sources),
    synchronous: config.sync,
    catalog,
    ...(options.workflows ? { workflows: options.workflows } : {}),
    ...(options.projections ? { projections: options.projections } : {}),
    bus: { transport, publisher },
    logger: logger.child({ component: 'store' }),
    ...(encryption === undefined
      ? {}
      : {
          protect: (store, reader) => protectedEventStore(store, encryption, reader),
          phiRead: config.phiRead,
        }),
  });

  const history = lazyHistory({
    store: nodeStore.store,
    path: join(config.dataDir, HISTORY_FILE_NAME),
    exportsDir: join(config.dataDir, EXPORTS_DIR_NAME),
  });

  registerStoreGauges({
    registry: metrics.registry,
    store: nodeStore.store,
    projections: nodeStore.projections,
    logger,
  });

  const idempotency = openNodeIdempotency({
    path: dataFile,
    synchronous: config.sync,
    retentionMs: config.idempotencyRetentionMs,
    publisher,
    catalog,
    logger: logger.child({ component: 'idempotency' }),
  });

  const pushAndPull = openNodeDelivery({
    path: dataFile,
    synchronous: config.sync,
    transport,
    groupAdmin,
    catalog,
    metrics,
    logger,
  });
  return {
    history,
    encryption,
    claimCheck,
    dataFile,
    transport,
    groupAdmin,
    metrics,
    keys,
    audit,
    auditRelay,
    auth,
    publisher,
    nodeStore,
    idempotency,
    pushAndPull,
  };
}

/**
 * Assembles a platform node on the configured transport: the embedded one (the SQLite file
 * `<dataDir>/keel.db`) or Kafka (`KEEL_KAFKA_BROKERS`). Throws ConfigError for adapters this build
 * does not include and for an incomplete Kafka connection.
 */
export function createNode(options: NodeOptions): KeelNode {
  const { config, catalog, logger } = options;
  assertAvailableAdapters(config, options.sources);
  const authMode = authModeOf(config);
  // Read before anything opens: a broken certificate or key setting stops the node with nothing to close.
  const https = httpsOf(config, options.sources);
  // The node's URL once it listens (the Avro encoder names the registry by it).
  const parts = openNodeParts(options, authMode, () => url);
  const { encryption, dataFile, transport, groupAdmin, metrics, publisher, nodeStore, idempotency } = parts;
  const { keys, audit, auditRelay, auth, claimCheck } = parts;
  const { pushAndPull, history } = parts;
  const { delivery, pull } = pushAndPull;

  let state: 'created' | 'starting' | 'running' | 'closing' | 'closed' = 'created';
  let url: string | undefined;
  let closing: Promise<void> | undefined;
  const jobs = createJobRegistry();
  let reports: ReportScheduler | undefined;
  let reportRuns: ReportRuns | undefined;
  const liveTails = createLiveTails(options.liveTail);
  const app = createApp({
    auth,
    auditTopic: config.auditTopic,
    ...https,
    ...(config.corsOrigins ? { corsOrigins: config.corsOrigins } : {}),
    ...rateLimitOf(config, metrics),
    keys,
    liveTails,
    jobs,
    groupAdmin,
    store: nodeStore,
    history,
    reports: () => reports,
    ...(encryption === undefined ? {} : { encryption }),
    delivery,
    pull,
    ...(idempotency ? { idempotent: idempotency.publish } : {}),
    checkAnswers: options.checkAnswers ?? false,
    ingestors: options.ingestors ?? [],
    ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
    exportEnabled: config.exportEnabled,
    publisher,
    transport,
    catalog,
    metrics,
    logger,
    maxEventBytes: config.maxEventBytes,
    notReadyReason: () =>
      state === 'running'
        ? undefined
        : state === 'closing' || state === 'closed'
          ? 'shutting down'
          : 'starting',
  });

  const close = (): Promise<void> => {
    closing ??= (async () => {
      state = 'closing';
      try {
        await app.close();
        await jobs.close();
      } finally {
        claimCheck?.close();
        await pushAndPull.close();
        await reports?.stop();
        reportRuns?.close();
        await history.close();
        await nodeStore
          .close()
          .catch((error: unknown) => logger.error({ err: error }, 'closing the store failed'));
        idempotency?.close();
        await encryption?.close();
        keys.close();
        // What was recorded reaches keel.audit before the transport closes (or at the next start).
        await auditRelay.drained();
        await auditRelay.close();
        await audit
          .close()
          .catch((error: unknown) => logger.error({ err: error }, 'closing the audit trail failed'));
        await groupAdmin.close();
        await transport.close();
        state = 'closed';
      }
    })();
    return closing;
  };

  return {
    app,
    transport,
    metrics,
    publisher,
    catalog,
    groupAdmin,
    jobs,
    liveTails,
    idempotency: idempotency?.store,
    store: nodeStore,
    encryption,
    delivery,
    pull,
    keys,
    history,
    audit,
    auditRelay,
    claimCheck,
    authMode,
    dataFile,
    get url() {
      return url;
    },
    async start() {
      if (state !== 'created') throw new Error(`node cannot start: it is ${state}`);
      state = 'starting';
      // The master key is checked against the key store before a single event can be written.
      await encryption?.start();
      await transport.ensureTopics([
        ...catalog.topics.map(topicConfigOf),
        auditTopicConfig(config.auditTopic, Math.max(1, ...catalog.topics.map((topic) => topic.replication))),
      ]);
      await auditRelay.start();
      await nodeStore.start();
      // Before the node takes a request: an incompatible catalog refuses to start, with the reasons.
      await registerCatalogSchemas(nodeStore.registry, catalog);
      await delivery.start();
      claimCheck?.start();
      if (options.reports?.length) {
        reportRuns = openReportRuns(join(config.dataDir, REPORTS_FILE_NAME));
        reports = createReportScheduler({
          reports: [...options.reports],
          history: await history.get(),
          runs: reportRuns,
        });
      }
      await app.listen({
        port: config.port,
        host: config.host,
        listenTextResolver: (address) => `HTTP API listening on ${address}`,
      });
      url = urlOf(app, config.host, config.tlsCertFile === undefined ? 'http' : 'https');
      state = 'running';
      return url;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The app's token bucket per identity, unless `KEEL_RATE_LIMIT` is 0. */
function rateLimitOf(config: KeelConfig, metrics: KeelMetrics): { rateLimit?: RateLimitOptions } {
  if (config.rateLimit <= 0) return {};
  return {
    rateLimit: { perSecond: config.rateLimit, burst: config.rateLimitBurst, registry: metrics.registry },
  };
}

/** The audit trail beside the event store: PostgreSQL (`<schema>.keel_audit_log`) or `<dataDir>/security.db`. */
function openAuditLog(config: KeelConfig, sources: ConfigSources | undefined): AuditLog {
  const connection = storeConnection(config, sources);
  return connection.store === 'postgres'
    ? createPostgresAuditLog({ url: connection.url, schema: connection.schema })
    : createSqliteAuditLog({ path: join(config.dataDir, SECURITY_FILE_NAME), synchronous: config.sync });
}

/** How the node authenticates: API keys from `keys`, and OpenID Connect tokens when an issuer is configured. */
function authSettings(
  config: KeelConfig,
  mode: 'required' | 'off',
  keys: ApiKeyStore,
  metrics: KeelMetrics,
): AuthSettings {
  const oidc = config.oidcIssuer
    ? createOidcVerifier({
        issuer: config.oidcIssuer,
        audience: config.oidcAudience,
        ...(config.oidcJwksUrl ? { jwksUrl: config.oidcJwksUrl } : {}),
        rolesClaim: config.oidcRolesClaim,
        tenantsClaim: config.oidcTenantsClaim,
        ...(config.oidcAllTenants ? { allTenantsValue: config.oidcAllTenants } : {}),
        ...(config.oidcTopicsClaim ? { topicsClaim: config.oidcTopicsClaim } : {}),
        ...(config.oidcTypesClaim ? { typesClaim: config.oidcTypesClaim } : {}),
      })
    : undefined;
  return {
    mode,
    authenticator: createAuthenticator({ keys, oidc }),
    registry: metrics.registry,
    anonymousReadsPhi: config.phiRead,
  };
}

/** The transport's configuration of a catalog topic. */
function topicConfigOf(topic: TopicDefinition): TopicConfig {
  return {
    name: topic.name,
    partitions: topic.partitions,
    replication: topic.replication,
    retentionMs: topic.retentionMs,
    retentionBytes: topic.retentionBytes,
    compacted: topic.compacted,
    minInsyncReplicas: topic.minInsyncReplicas,
    compression: topic.compression,
  };
}

/**
 * The publisher's `sealer` (field encryption) and `encoder`: Avro (when the catalog declares an Avro event
 * type), then the claim check (when configured), so a large Avro payload goes to the blob folder encoded.
 * The Avro encoder is made on first use: the registry opens with the store, after the publisher, and nothing
 * is published before the node starts.
 */
function rewriters(
  encryption: FieldEncryption | undefined,
  catalog: Catalog,
  opened: () => { registry: SchemaRegistry; url: string | undefined },
  claimCheck: NodeClaimCheck | undefined,
): { sealer?: EventSealer; encoder?: EventSealer } {
  const sealing = encryption === undefined ? {} : { sealer: encryption.seal };
  const avro = avroEncoder(catalog, opened);
  const steps = [avro, claimCheck?.encoder].filter((step): step is EventSealer => step !== undefined);
  if (steps.length === 0) return sealing;
  return {
    ...sealing,
    encoder: async (events) => {
      let encoded = [...events];
      for (const step of steps) encoded = await step(encoded);
      return encoded;
    },
  };
}

/** The Avro encoder made on first use, or undefined when no event type of the catalog declares Avro. */
function avroEncoder(
  catalog: Catalog,
  opened: () => { registry: SchemaRegistry; url: string | undefined },
): EventSealer | undefined {
  if (!catalog.events.some((definition) => definition.avro !== undefined)) return undefined;
  let encoder: EventSealer | undefined;
  const registryUrl = () => {
    const { url } = opened();
    return url === undefined ? undefined : `${url}/registry`;
  };
  return (events) => {
    encoder ??= createAvroEncoder({ registry: opened().registry, catalog, registryUrl });
    return encoder(events);
  };
}

/** The configured transport and the administration of its consumer groups. */
function openTransport(
  config: KeelConfig,
  options: NodeOptions,
  dataFile: string,
): { transport: Transport; groupAdmin: GroupAdmin } {
  const logger = options.logger.child({ component: 'transport' });
  if (config.transport === 'kafka') {
    const connection = { ...kafkaConnection(config, options.sources), clientId: 'keel-node', logger };
    const transport = createKafkaTransport(connection);
    return { transport, groupAdmin: createKafkaGroupAdmin(transport, connection) };
  }
  const transport = createEmbeddedTransport({ path: dataFile, synchronous: config.sync, logger });
  return { transport, groupAdmin: createEmbeddedGroupAdmin({ path: dataFile }) };
}

/** Rejects settings the node cannot honour (a postgres store without its connection string) before anything opens. */
function assertAvailableAdapters(config: KeelConfig, sources: ConfigSources | undefined): void {
  storeConnection(config, sources);
}

function urlOf(app: FastifyInstance, host: string, scheme: 'http' | 'https'): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : undefined;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${shownHost}:${port}`;
}
