export {
  FieldEncryptionNotStartedError,
  InvalidSubjectError,
  MasterKeyError,
  type MasterKeyProblem,
  PhiSubjectMissingError,
  SealedValueError,
} from './errors.ts';
export {
  createFieldEncryption,
  type ErasureReport,
  type FieldEncryption,
  type FieldEncryptionOptions,
  type PhiReader,
} from './field-encryption.ts';
export type { DataKeyRow, KeyStore, NewDataKey } from './key-store.ts';
export {
  loadMasterKey,
  type MasterKey,
  type MasterKeySource,
  masterKeyFrom,
  newMasterKeyText,
} from './master-key.ts';
export { createSqliteKeyStore, type SqliteKeyStoreOptions } from './sqlite/sqlite-key-store.ts';
