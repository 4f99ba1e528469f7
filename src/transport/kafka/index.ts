export {
  type AclEntry,
  type AclPlan,
  formatAclPlan,
  type TopicAccessConfig,
} from './acl-plan.ts';
export {
  GroupNotEmptyError,
  KafkaOperationError,
  TopicChangeRefusedError,
  type TopicRefusal,
} from './errors.ts';
export type {
  KafkaCompression,
  KafkaConsumerDefaults,
  KafkaProducerOptions,
  KafkaSaslMechanism,
  KafkaSaslOptions,
  KafkaTransportOptions,
} from './kafka-options.ts';
export { createKafkaTransport, type KafkaTransport, type OffsetResetTarget } from './kafka-transport.ts';
export { formatTopicPlan, type TopicChange, type TopicPlan } from './topic-plan.ts';
