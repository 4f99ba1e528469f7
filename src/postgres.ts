// `keel/postgres`: the PostgreSQL adapters, kept out of the main entry point so embedded users never load the driver.

export * from './registry/postgres/index.ts';
export {
  createPostgresKeyStore,
  type PostgresKeyStoreOptions,
} from './security/encryption/postgres/postgres-key-store.ts';
export * from './store/postgres/index.ts';
export * from './workflows/postgres/index.ts';
