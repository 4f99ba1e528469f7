import type { Logger } from 'pino';
import type { Publisher } from '../../bus/publisher-port.ts';
import type { StoreConnection } from '../../config/store-connection.ts';
import type { Catalog } from '../../events/catalog.ts';
import { createPostgresRegistryStorage } from '../../registry/postgres/postgres-registry-storage.ts';
import type { RegistryStorage } from '../../registry/registry-storage.ts';
import { createSchemaRegistry, type SchemaRegistry } from '../../registry/schema-registry.ts';
import { createSqliteRegistryStorage } from '../../registry/sqlite/sqlite-registry-storage.ts';
import type { EventStore } from '../../store/event-store.ts';
import { createPostgresEventStore } from '../../store/postgres/postgres-event-store.ts';
import type { ProjectionDefinition } from '../../store/projections/projection.ts';
import { createSqliteEventStore } from '../../store/sqlite/sqlite-event-store.ts';
import type { Transport } from '../../transport/transport.ts';
import type { WorkflowBackend } from '../../workflows/backend.ts';
import type { WorkflowDefinition } from '../../workflows/define-workflow.ts';
import { createWorkflowEngine } from '../../workflows/engine.ts';
import type { WorkflowEngine } from '../../workflows/engine-types.ts';
import { createPostgresWorkflowBackend } from '../../workflows/postgres/postgres-backend.ts';
import { createSqliteWorkflowBackend } from '../../workflows/sqlite/sqlite-backend.ts';

/** Milliseconds before its SLA deadline an instance counts as at risk in the node's API: 5 minutes. */
export const SLA_RISK_WINDOW_MS = 300_000;

/** What the node runs beside the bus: the event store and the workflow engine on its database. */
export interface NodeStore {
  /**
   * The event store (`KEEL_STORE`): the node's SQLite file, or PostgreSQL in `KEEL_POSTGRES_SCHEMA`. With
   * field encryption, as the HTTP API reads it: sensitive fields masked unless the node may read PHI.
   */
  readonly store: EventStore;
  /**
   * The event store as one reader sees it: sensitive fields in plain for a reader with the read-PHI
   * permission, `[masked]` for any other (the store as opened when there is no field encryption).
   */
  storeFor(reader: { canReadPhi: boolean }): EventStore;
  /** The workflow engine on the store: a client always (list, get, signal, cancel); a worker when it has definitions. */
  readonly workflows: WorkflowEngine;
  /** Workflow definitions this node runs (every version), as given. */
  readonly workflowDefinitions: readonly WorkflowDefinition[];
  /** Milliseconds before its SLA deadline an unended instance counts as at risk. */
  readonly slaRiskWindowMs: number;
  /** The schema registry, in the store's database (its own tables). */
  readonly registry: SchemaRegistry;
  /** Projection definitions this node can rebuild, by name. */
  readonly projections: ReadonlyMap<string, ProjectionDefinition>;
  /** Starts the workflow worker when the node has definitions. */
  start(): Promise<void>;
  /** Stops the engine, then closes the backend and the store. */
  close(): Promise<void>;
}

/** How the node's store is opened. */
export interface NodeStoreOptions {
  connection: StoreConnection;
  /** SQLite `synchronous` mode (`KEEL_SYNC`). */
  synchronous: 'full' | 'normal';
  /** Decodes (and upcasts) stored events. */
  catalog: Catalog;
  /** Workflow definitions to run; none: the engine only reads and acts on instances run elsewhere. */
  workflows?: readonly WorkflowDefinition[];
  /** Projection definitions the API may rebuild. */
  projections?: readonly ProjectionDefinition[];
  /** The bus the workflows' command steps, replies and triggers use. */
  bus: { transport: Transport; publisher: Publisher };
  logger: Logger;
  /**
   * Wraps the store so appends seal sensitive fields and reads open them for a reader (field encryption):
   * the workflow engine reads in plain; `store` as `phiRead` says; `storeFor` as its reader may. None: the
   * store as opened.
   */
  protect?: (store: EventStore, reader: { canReadPhi: boolean }) => EventStore;
  /** Whether `store` shows sensitive fields in plain (`KEEL_PHI_READ`, for a node without authentication); default false. */
  phiRead?: boolean;
}

/** Opens the configured event store and a workflow engine on it (migrating both on first use). */
export function openNodeStore(options: NodeStoreOptions): NodeStore {
  const { connection, catalog, logger } = options;
  const {
    store: opened,
    backend,
    registryStorage,
  } = openStoreAndBackend(connection, options.synchronous, catalog);
  const protect = options.protect ?? ((plain: EventStore) => plain);
  const plain = protect(opened, { canReadPhi: true });
  const masked = protect(opened, { canReadPhi: false });
  const store = options.phiRead ? plain : masked;
  const definitions = options.workflows ?? [];
  const workflows = createWorkflowEngine({
    store: plain,
    backend,
    workflows: definitions,
    slaRiskWindowMs: SLA_RISK_WINDOW_MS,
    ...(definitions.length > 0
      ? { bus: { transport: options.bus.transport, catalog, publisher: options.bus.publisher } }
      : {}),
    logger,
  });
  const projections = new Map((options.projections ?? []).map((p) => [p.name, p]));
  return {
    store,
    storeFor: (reader) => (reader.canReadPhi ? plain : masked),
    workflows,
    workflowDefinitions: definitions,
    slaRiskWindowMs: SLA_RISK_WINDOW_MS,
    registry: createSchemaRegistry({ storage: registryStorage }),
    projections,
    async start() {
      if (definitions.length > 0) await workflows.startWorker();
    },
    async close() {
      try {
        await workflows.close();
      } finally {
        await backend.close();
        await registryStorage.close();
        await store.close();
      }
    },
  };
}

function openStoreAndBackend(
  connection: StoreConnection,
  synchronous: 'full' | 'normal',
  catalog: Catalog,
): { store: EventStore; backend: WorkflowBackend; registryStorage: RegistryStorage } {
  if (connection.store === 'postgres') {
    const { url, schema } = connection;
    return {
      store: createPostgresEventStore({ url, schema, catalog, maxConnections: 4 }),
      backend: createPostgresWorkflowBackend({ url, schema, maxConnections: 2 }),
      registryStorage: createPostgresRegistryStorage({ url, schema, maxConnections: 2 }),
    };
  }
  // The store opens (and migrates) the file first; the backend then opens its own connection to it.
  const store = createSqliteEventStore({ path: connection.path, synchronous, catalog });
  return {
    store,
    backend: createSqliteWorkflowBackend({ path: connection.path, synchronous }),
    registryStorage: createSqliteRegistryStorage({ path: connection.path, synchronous }),
  };
}
