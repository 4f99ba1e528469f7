// The public API of Keel: what services, domain packs and tests of behaviour import.
export * from './bus/index.ts';
export * from './events/index.ts';
export * from './observability/index.ts';
export * from './transport/index.ts';
