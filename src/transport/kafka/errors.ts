import { KeelError } from '../../errors/keel-error.ts';

/** A Kafka request that failed: which operation, and the client's error (with the brokers' error codes) as cause. */
export class KafkaOperationError extends KeelError {
  readonly code = 'KEEL_KAFKA_OPERATION';
  /** What was attempted, e.g. `append`, `createTopics`, `commit`. */
  readonly operation: string;
  /** Kafka protocol error names found in the cause, e.g. `NOT_ENOUGH_REPLICAS`; empty for network errors. */
  readonly kafkaErrors: readonly string[];

  constructor(operation: string, cause: unknown, kafkaErrors: readonly string[]) {
    super(
      `kafka ${operation} failed: ${describeCause(cause)}${kafkaErrors.length > 0 ? ` (${kafkaErrors.join(', ')})` : ''}`,
      { cause },
    );
    this.operation = operation;
    this.kafkaErrors = kafkaErrors;
  }
}

/** Offsets of a group cannot be reset while members are in it: they would overwrite them with their own commits. */
export class GroupNotEmptyError extends KeelError {
  readonly code = 'KEEL_KAFKA_GROUP_NOT_EMPTY';
  readonly group: string;
  /** The group's state as the coordinator reports it, e.g. `Stable`. */
  readonly state: string;
  /** Number of members in the group. */
  readonly members: number;

  constructor(group: string, state: string, members: number) {
    super(
      `group "${group}" is ${state} with ${members} member(s): stop its consumers before resetting its offsets`,
    );
    this.group = group;
    this.state = state;
    this.members = members;
  }
}

/** Why one topic of a topology cannot be brought to its definition. */
export interface TopicRefusal {
  topic: string;
  /** `fewer-partitions` or `replication-change`. */
  reason: 'fewer-partitions' | 'replication-change';
  /** What is wrong and what the operator can do. */
  message: string;
}

/** A topology change Kafka cannot make; nothing of the plan was applied. */
export class TopicChangeRefusedError extends KeelError {
  readonly code = 'KEEL_KAFKA_TOPIC_CHANGE_REFUSED';
  readonly refusals: readonly TopicRefusal[];

  constructor(refusals: readonly TopicRefusal[]) {
    super(`refused, nothing changed: ${refusals.map((r) => r.message).join('; ')}`);
    this.refusals = refusals;
  }
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const nested = (cause as Error & { errors?: unknown[] }).errors;
  const inner = Array.isArray(nested)
    ? nested
        .map((e) => (e instanceof Error ? e.message : String(e)))
        .filter((m) => m !== cause.message)
        .slice(-1)
    : [];
  return [cause.message, ...inner].join(': ');
}
