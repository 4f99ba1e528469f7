import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LazyHistory } from '../analytics/history/lazy-history.ts';
import type { ReportScheduler } from '../analytics/reports/report-scheduler.ts';
import { createDeadLetterQueue } from '../bus/dead-letter/dead-letter-queue.ts';
import type { Publisher } from '../bus/publisher-port.ts';
import type { DeliveryManager } from '../delivery/delivery-manager.ts';
import type { PullGroups } from '../delivery/pull/pull-groups.ts';
import type { Catalog } from '../events/catalog.ts';
import type { IngestorDefinition } from '../events/define-ingestor.ts';
import type { KeelMetrics } from '../observability/metrics.ts';
import type { FieldEncryption } from '../security/encryption/field-encryption.ts';
import type { ApiKeyStore } from '../security/identity/api-key-store.ts';
import type { GroupAdmin } from '../transport/group-admin.ts';
import type { Transport } from '../transport/transport.ts';
import { apiProblemOf } from './api/api-problems.ts';
import { type ApiRegistry, createApiRegistry } from './api/route.ts';
import { consolePageHtml, defaultConsoleDir, registerConsole } from './console/serve-console.ts';
import type { IdempotentPublish } from './idempotency/idempotent-publish.ts';
import { createJobRegistry, type JobRegistry } from './jobs/job-registry.ts';
import { createFigureStreams } from './live/figure-streams.ts';
import { PROBLEM_MEDIA_TYPE, problem, problemFromError, sendProblem } from './problem.ts';
import { documentRegistryRoutes } from './registry/registry-documentation.ts';
import { registerSchemaRegistryRoutes } from './registry/registry-routes.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerCatalogRoutes } from './routes/catalog.ts';
import { registerConsumerRoutes } from './routes/consumers.ts';
import { registerDeadLetterRoutes } from './routes/dead-letters.ts';
import { docsPage, registerDocsRoutes } from './routes/docs.ts';
import { documentHandWrittenRoutes } from './routes/documented-routes.ts';
import { registerErasureRoute } from './routes/erasure.ts';
import { registerEventsRoute } from './routes/events.ts';
import { registerExportRoutes } from './routes/exports.ts';
import { registerGroupRoutes } from './routes/groups.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerIngestRoute } from './routes/ingest.ts';
import { registerJobRoutes } from './routes/jobs.ts';
import { registerKeyRoutes } from './routes/keys.ts';
import { registerFigureRoutes } from './routes/live-figures.ts';
import { registerMetricsRoute } from './routes/metrics.ts';
import { registerQueryRoute } from './routes/query.ts';
import { registerReportRoutes } from './routes/reports.ts';
import { registerStoreRoutes } from './routes/store.ts';
import { registerStoreJobRoutes } from './routes/store-jobs.ts';
import { registerSubscriptionRoutes } from './routes/subscriptions.ts';
import { registerTopicLiveRoute } from './routes/topic-live.ts';
import { registerTopicTransferRoutes } from './routes/topic-transfer.ts';
import { registerTopicRoutes } from './routes/topics.ts';
import { registerTraceRoutes } from './routes/trace.ts';
import { registerWorkflowRoutes } from './routes/workflows.ts';
import { type AuthSettings, registerAuthentication } from './security/auth-hook.ts';
import { type RateLimitOptions, registerRateLimit } from './security/rate-limit.ts';
import { inlineScriptsOf, registerSecurityHeaders } from './security/security-headers.ts';
import type { NodeStore } from './store/open-node-store.ts';
import { requestStoreOf } from './store/request-store.ts';
import { createLiveTails, type LiveTails } from './topics/live-tail.ts';

/** What the HTTP API is built from. */
export interface AppOptions {
  publisher: Publisher;
  transport: Transport;
  catalog: Catalog;
  metrics: KeelMetrics;
  logger: Logger;
  /** Largest encoded event accepted, in bytes; sizes the request body limit. */
  maxEventBytes: number;
  /** Why the node is not ready regardless of the transport (e.g. shutting down), or undefined. */
  notReadyReason?: () => string | undefined;
  /** Where long work runs; a fresh in-memory registry when absent (the caller then cannot close it). */
  jobs?: JobRegistry;
  /** Checks every answer of the declared routes against its schema (tests; a mismatch is a 500). */
  checkAnswers?: boolean;
  /** Consumer group administration on the transport; without it there are no group routes and lag is null. */
  groupAdmin?: GroupAdmin;
  /** Publishes `POST /v1/events` at most once per (source, id); absent, every request appends. */
  idempotent?: IdempotentPublish;
  /** Allow topic exports (`KEEL_EXPORT_ENABLED`); default true. */
  exportEnabled?: boolean;
  /** Live tails of topics; a fresh tracker with the default options when absent. */
  liveTails?: LiveTails;
  /** Folder of the built web console served at `/`; `dist/console` of the package when absent. */
  consoleDir?: string;
  /** The event store and the workflow engine; without it there are no store, trace or workflow routes. */
  store?: NodeStore;
  /** Field encryption, for erasure; absent, `POST /v1/erasures` answers 409. */
  encryption?: FieldEncryption;
  /** Push subscriptions; without it there are no subscription routes. */
  delivery?: DeliveryManager;
  /** Consumer groups served over HTTP; without it there are no consumer routes. */
  pull?: PullGroups;
  /** Authentication and authorization of every request; absent: off (every request may do anything). */
  auth?: AuthSettings;
  /** The API keys managed over `/v1/keys`; absent: no key routes. */
  keys?: ApiKeyStore;
  /** Topic the audit trail is forwarded to, verified with it by `POST /v1/audit/verify`; absent: not verified. */
  auditTopic?: string;
  /** PEM certificate and key: the app serves HTTPS; absent: HTTP. */
  https?: { cert: Buffer; key: Buffer };
  /** Origins allowed to call the API from their pages (CORS); absent: none. */
  corsOrigins?: readonly string[];
  /** Token bucket per identity; absent: no rate limit. */
  rateLimit?: RateLimitOptions;
  /** Formats taken at `POST /v1/ingest/<name>`; none: the route answers 404 for every name. */
  ingestors?: readonly IngestorDefinition[];
  /** SQL over the event store and exported files (DuckDB); absent: no query route. */
  history?: LazyHistory;
  /** The scheduled reports once the node started them (undefined before, or without reports). */
  reports?: () => ReportScheduler | undefined;
}

/** Title and version of the API in its OpenAPI document. */
export const API_INFO = {
  title: 'Keel platform node',
  version: '1.0.0',
  description:
    'The HTTP API of a Keel node: events, catalog, topics, consumer groups, dead letters, jobs, the event ' +
    'store, traces, workflows, push subscriptions and consumer groups over HTTP. ' +
    'Errors are RFC 9457 problem details; lists are paged with an opaque `cursor` (`next` in each page).',
} as const;

/** Smallest request body limit, in bytes: room for a sizeable batch of small events. */
const MIN_BODY_LIMIT = 16 * 1024 * 1024;

/** Largest request body accepted, in bytes: a batch of 16 events at the limit, and never under 16 MiB. */
export function bodyLimitFor(maxEventBytes: number): number {
  return Math.max(MIN_BODY_LIMIT, 16 * maxEventBytes);
}

/**
 * Answers what Node's HTTP parser refused (headers too large, broken framing, bad header names) as a problem
 * on the raw socket, then closes it: the request never reached fastify.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const title = status === 431 ? 'Request headers too large' : 'Malformed request';
  const body = JSON.stringify(
    problem(
      status === 431 ? 'headers-too-large' : 'malformed-request',
      status,
      title,
      `the request could not be read (${error.code ?? 'parse error'})`,
    ),
  );
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: ${PROBLEM_MEDIA_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Builds the fastify app of the HTTP API (not listening; the node or a test decides). */
export function createApp(options: AppOptions): FastifyInstance {
  const { logger } = options;
  const bodyLimit = bodyLimitFor(options.maxEventBytes);
  // pino's Logger and fastify's logger type differ only in generics; the instance is the same pino.
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    ...(options.https ? { https: options.https } : {}),
    bodyLimit,
    return503OnClosing: true,
    // Errors raised before any route runs answer in the same format as every other refusal.
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, _request, reply) =>
      sendProblem(reply, problem('bad-request', 400, 'Bad request', error.message)),
  });

  // The CloudEvents binding decides how to read a body from its headers, so every body reaches the
  // route as raw bytes, whatever its content type (binary mode may carry any media type).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  const consoleDir = options.consoleDir ?? defaultConsoleDir();
  const consolePage = registerConsole(app, consoleDir);
  app.setNotFoundHandler(
    (request, reply) =>
      consolePage(request, reply) ??
      sendProblem(reply, problem('not-found', 404, 'Not found', `no route ${request.method} ${request.url}`)),
  );
  app.setErrorHandler((error, request, reply) => {
    const body = apiProblemOf(error as Error & Record<string, unknown>) ?? problemFromError(error);
    if (body) return sendProblem(reply, body);
    request.log.error({ err: error }, 'request failed');
    return sendProblem(
      reply,
      problem('internal', 500, 'Internal error', 'the node failed to handle the request'),
    );
  });

  registerSecurityHeaders(app, {
    inlineScripts: [
      ...inlineScriptsOf(consolePageHtml(consoleDir) ?? ''),
      ...inlineScriptsOf(docsPage(API_INFO)),
    ],
    https: options.https !== undefined,
    corsOrigins: options.corsOrigins,
  });
  registerAuthentication(app, options.auth ?? { mode: 'off' });
  if (options.rateLimit) registerRateLimit(app, options.rateLimit);
  registerEventsRoute(app, {
    publisher: options.publisher,
    catalog: options.catalog,
    idempotent: options.idempotent,
  });
  registerIngestRoute(app, {
    publisher: options.publisher,
    catalog: options.catalog,
    idempotent: options.idempotent,
    ingestors: options.ingestors ?? [],
  });
  registerHealthRoutes(app, {
    transport: options.transport,
    probeTopic: options.catalog.topics[0]?.name,
    notReadyReason: options.notReadyReason ?? (() => undefined),
  });
  registerMetricsRoute(app, options.metrics);

  // Routes declared with schemas: validated by them, and described by the OpenAPI document.
  const api = createApiRegistry(app, { checkAnswers: options.checkAnswers ?? false });
  const jobs = options.jobs ?? createJobRegistry();
  const { transport, groupAdmin } = options;
  registerCatalogRoutes(api, options.catalog, { transport, groupAdmin });
  registerJobRoutes(api, jobs);
  registerKeyRoutes(api, options.keys);
  if (options.auth?.audit)
    registerAuditRoutes(
      api,
      options.auth.audit,
      options.auditTopic ? { transport: options.transport, topic: options.auditTopic } : undefined,
    );
  registerTopicRoutes(api, { transport, groupAdmin, jobs });
  registerTopicTransferRoutes(api, {
    transport,
    catalog: options.catalog,
    publisher: options.publisher,
    idempotent: options.idempotent,
    exportEnabled: options.exportEnabled ?? true,
  });
  const tails = options.liveTails ?? createLiveTails();
  // Streams stay open until their client goes: end them first, or closing would wait for them.
  const figureSources = {
    transport,
    groupAdmin,
    catalog: options.catalog,
    metrics: options.metrics,
    workflows: options.store?.workflows,
  };
  const figureStreams = createFigureStreams(figureSources);
  app.addHook('preClose', async () => {
    // Long polls of HTTP consumers would hold the close for up to their wait: end them first too.
    options.pull?.interrupt();
    await Promise.all([tails.closeAll(), figureStreams.closeAll()]);
  });
  registerFigureRoutes(api, figureSources, figureStreams);
  registerTopicLiveRoute(api, { transport, tails });
  if (groupAdmin) registerGroupRoutes(api, { transport, groupAdmin });
  registerDeadLetterRoutes(api, {
    transport,
    jobs,
    deadLetters: (group) => createDeadLetterQueue({ transport, group, metrics: options.metrics }),
  });
  if (options.delivery) registerSubscriptionRoutes(api, { delivery: options.delivery, jobs });
  if (options.pull) registerConsumerRoutes(api, options.pull);
  if (options.store) {
    registerNodeStoreRoutes(api, options.store, { ...options, jobs });
    registerSchemaRegistryRoutes(app, options.store.registry);
    documentRegistryRoutes(api);
  }
  if (options.history) {
    registerQueryRoute(api, options.history);
    registerExportRoutes(api, {
      history: options.history,
      jobs,
      exportEnabled: options.exportEnabled ?? true,
    });
  }
  registerReportRoutes(api, options.reports ?? (() => undefined));
  registerErasureRoute(api, options.encryption);
  documentHandWrittenRoutes(api);
  registerDocsRoutes(app, api, API_INFO);
  return app;
}

/** The routes on the event store and the workflow engine. */
function registerNodeStoreRoutes(
  api: ApiRegistry,
  nodeStore: NodeStore,
  options: AppOptions & { jobs: JobRegistry },
): void {
  const { store } = nodeStore;
  const storeOf = requestStoreOf(nodeStore);
  registerStoreRoutes(api, storeOf);
  registerStoreJobRoutes(api, {
    store,
    jobs: options.jobs,
    projections: nodeStore.projections,
    transport: options.transport,
    catalog: options.catalog,
    publisher: options.publisher,
  });
  registerTraceRoutes(api, {
    storeOf,
    transport: options.transport,
    groupAdmin: options.groupAdmin,
    topics: options.catalog.topics.map((topic) => topic.name),
  });
  registerWorkflowRoutes(api, {
    engine: nodeStore.workflows,
    definitions: nodeStore.workflowDefinitions,
    slaRiskWindowMs: nodeStore.slaRiskWindowMs,
  });
}
