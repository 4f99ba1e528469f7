export {
  CatalogIncompatibleError,
  type CatalogRegistration,
  type CatalogRegistryView,
  type CatalogSchema,
  type CatalogVerdict,
  catalogSchemaInput,
  catalogSchemas,
  checkCatalogSchemas,
  keelVersionOf,
  localRegistryView,
  registerCatalogSchemas,
} from './catalog-schemas.ts';
export { type BlobStore, createFolderBlobStore } from './claim-check/blob-store.ts';
export {
  CLAIM_CHECK_CONTENT_TYPE,
  type ClaimCheckOptions,
  type ClaimCheckReference,
  claimCheckData,
  createClaimCheckEncoder,
  expireBlobs,
} from './claim-check/claim-check.ts';
export {
  createS3BlobStore,
  S3BlobStoreError,
  type S3BlobStoreFailure,
  type S3BlobStoreOptions,
} from './claim-check/s3/s3-blob-store.ts';
export {
  compatibilityIncompatibilities,
  readIncompatibilities,
} from './compatibility/check-compatibility.ts';
export {
  describeIncompatibility,
  type Incompatibility,
  IncompatibleSchemaError,
  InvalidCompatibilityLevelError,
  InvalidSchemaError,
  InvalidVersionError,
  OperationNotPermittedError,
  ReferenceExistsError,
  RegistryError,
  SchemaNotFoundError,
  SubjectCompatibilityNotConfiguredError,
  SubjectNotFoundError,
  SubjectNotSoftDeletedError,
  VersionNotFoundError,
  VersionNotSoftDeletedError,
} from './errors.ts';
export { type ParsedSchema, parseAvro, parseJsonSchema, parseSchema } from './parse-schema.ts';
export type { RegistryStorage } from './registry-storage.ts';
export {
  type CompatibilityVerdict,
  createSchemaRegistry,
  type SchemaRegistry,
  type SchemaRegistryOptions,
  type VersionSpec,
} from './schema-registry.ts';
export {
  createSqliteRegistryStorage,
  type SqliteRegistryStorageOptions,
} from './sqlite/sqlite-registry-storage.ts';
export * from './types.ts';
export { AVRO_CONTENT_TYPE, avroData } from './wire/avro-data.ts';
export { type AvroEncoderOptions, createAvroEncoder } from './wire/avro-encoder.ts';
export {
  type AvroWireCodec,
  createAvroWireCodec,
  MAGIC_BYTE,
  type RegistryReader,
} from './wire/avro-wire.ts';
export { AvroEncodeError, type UndecodableReason, UndecodableRecordError } from './wire/wire-errors.ts';
