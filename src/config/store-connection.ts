import { ConfigError } from './config-error.ts';
import { CONFIG_KEYS, type KeelConfig } from './config-schema.ts';
import { type ConfigSources, describeKey } from './load-config.ts';

/** Which event store the configuration names, with what it needs to open it. */
export type StoreConnection =
  | {
      store: 'sqlite' /** The SQLite file, `<dataDir>/keel.db`, shared with the embedded transport. */;
      path: string;
    }
  | {
      store: 'postgres' /** `KEEL_POSTGRES_URL`. */;
      url: string;
      /** `KEEL_POSTGRES_SCHEMA`: the schema of the store's (and the workflows') tables. */
      schema: string;
    };

/**
 * The event store the configuration describes. Throws ConfigError naming `KEEL_POSTGRES_URL` (or where
 * the store was set) when the store is postgres without a connection string.
 */
export function storeConnection(
  config: KeelConfig,
  sources?: ConfigSources,
  /** Who needs the connection string, for the message when it is missing. */
  requiredBy = 'when the store is postgres',
  cwd = process.cwd(),
): StoreConnection {
  if (config.store === 'sqlite') return { store: 'sqlite', path: `${config.dataDir}/keel.db` };
  if (config.postgresUrl === undefined) {
    // A key that was never set is named by its environment variable, where operators set it.
    const key =
      sources === undefined || sources.postgresUrl.kind === 'default'
        ? CONFIG_KEYS.postgresUrl.env
        : describeKey('postgresUrl', sources.postgresUrl, cwd);
    throw new ConfigError([{ key, message: `required ${requiredBy}: a postgres:// connection string` }]);
  }
  return { store: 'postgres', url: config.postgresUrl, schema: config.postgresSchema };
}
