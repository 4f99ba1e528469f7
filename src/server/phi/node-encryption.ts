import { join } from 'node:path';
import type { KeelConfig } from '../../config/config-schema.ts';
import type { StoreConnection } from '../../config/store-connection.ts';
import type { Catalog } from '../../events/catalog.ts';
import { createFieldEncryption, type FieldEncryption } from '../../security/encryption/field-encryption.ts';
import { loadMasterKey } from '../../security/encryption/master-key.ts';
import { createPostgresKeyStore } from '../../security/encryption/postgres/postgres-key-store.ts';
import { createSqliteKeyStore } from '../../security/encryption/sqlite/sqlite-key-store.ts';

/** File name of the data key store beside the node's SQLite file (a file of its own: log backups hold no keys). */
export const PHI_KEYS_FILE_NAME = 'phi-keys.db';

/**
 * The node's field encryption: on when a master key is configured or the catalog declares sensitive fields.
 * A catalog with sensitive fields and no master key throws MasterKeyError here, before anything opens, so
 * the node never writes them in plain. Keys live beside the store: `<dataDir>/phi-keys.db`, or the store's
 * PostgreSQL schema.
 */
export function openNodeEncryption(
  config: KeelConfig,
  catalog: Catalog,
  connection: StoreConnection,
): FieldEncryption | undefined {
  const sensitive = catalog.events.some((definition) => definition.sensitive.length > 0);
  const configured = config.phiMasterKey !== undefined || config.phiMasterKeyFile !== undefined;
  if (!configured && !sensitive) return undefined;
  const masterKey = loadMasterKey({
    ...(config.phiMasterKey === undefined ? {} : { value: config.phiMasterKey }),
    ...(config.phiMasterKeyFile === undefined ? {} : { file: config.phiMasterKeyFile }),
    label:
      config.phiMasterKey !== undefined
        ? 'KEEL_PHI_MASTER_KEY'
        : configured
          ? `KEEL_PHI_MASTER_KEY_FILE (${config.phiMasterKeyFile})`
          : 'KEEL_PHI_MASTER_KEY or KEEL_PHI_MASTER_KEY_FILE (the catalog declares sensitive fields)',
  });
  const keyStore =
    connection.store === 'postgres'
      ? createPostgresKeyStore({ url: connection.url, schema: connection.schema })
      : createSqliteKeyStore({ path: join(config.dataDir, PHI_KEYS_FILE_NAME) });
  return createFieldEncryption({ keyStore, masterKey, catalog });
}
