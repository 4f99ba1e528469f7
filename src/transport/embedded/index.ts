export type { EmbeddedTransport, EmbeddedTransportOptions } from './embedded-transport.ts';
export { createEmbeddedTransport } from './embedded-transport.ts';
export { UnsupportedSchemaVersionError } from './errors.ts';
