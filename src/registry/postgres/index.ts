export {
  createPostgresRegistryStorage,
  type PostgresRegistryStorageOptions,
} from './postgres-registry-storage.ts';
