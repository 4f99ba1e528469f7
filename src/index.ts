// The public API of Keel: what services, domain packs and tests of behaviour import.
// Adapters with a driver of their own live behind subpaths: `keel/postgres` and `keel/kafka`.
export * from './bus/index.ts';
export * from './events/index.ts';
export * from './observability/index.ts';
export * from './registry/index.ts';
export * from './security/encryption/index.ts';
export * from './store/index.ts';
export * from './transport/index.ts';
export * from './workflows/index.ts';
