export type { EmbeddedTransport, EmbeddedTransportOptions } from './embedded/index.ts';
export { createEmbeddedTransport, UnsupportedSchemaVersionError } from './embedded/index.ts';
export { ConsumerBusyError, NotAssignedError, TransportClosedError, UnknownTopicError } from './errors.ts';
// The Kafka adapter itself is the `keel/kafka` subpath, so the main entry does not load the Kafka client.
export type {
  KafkaTransport,
  KafkaTransportOptions,
  OffsetResetTarget,
  TopicChange,
  TopicPlan,
} from './kafka/index.ts';
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
