export type { EmbeddedTransport, EmbeddedTransportOptions } from './embedded/index.ts';
export { createEmbeddedTransport, UnsupportedSchemaVersionError } from './embedded/index.ts';
export { ConsumerBusyError, NotAssignedError, TransportClosedError, UnknownTopicError } from './errors.ts';
export type {
  Consumer,
  ConsumerOptions,
  OffsetCommit,
  OutgoingRecord,
  PartitionLag,
  PartitionOffsets,
  PartitionWrite,
  StartFrom,
  StoredRecord,
  TopicConfig,
  TopicPartition,
  Transport,
  TransportCapabilities,
} from './transport.ts';
