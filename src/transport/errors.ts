import { KeelError } from '../errors/keel-error.ts';
import type { TopicPartition } from './transport.ts';

/** A commit for partitions this member does not hold (any more): another member may own them now. */
export class NotAssignedError extends KeelError {
  readonly code = 'KEEL_TRANSPORT_NOT_ASSIGNED';
  readonly group: string;
  readonly memberId: string;
  /** The partitions of the refused commit that this member does not hold; nothing was committed. */
  readonly partitions: readonly TopicPartition[];

  constructor(group: string, memberId: string, partitions: readonly TopicPartition[]) {
    super(
      `group "${group}" member ${memberId} does not hold ${partitions
        .map((p) => `${p.topic}[${p.partition}]`)
        .join(', ')}: commit refused (the partitions were reassigned, poll again to get the new assignment)`,
    );
    this.group = group;
    this.memberId = memberId;
    this.partitions = partitions;
  }
}

/** A topic, or a partition of it, that does not exist. */
export class UnknownTopicError extends KeelError {
  readonly code = 'KEEL_TRANSPORT_UNKNOWN_TOPIC';
  readonly topic: string;
  /** The partition asked for, when the topic exists but has no such partition. */
  readonly partition: number | undefined;

  constructor(topic: string, partition?: number) {
    super(
      partition === undefined
        ? `topic "${topic}" does not exist: create it with ensureTopics first`
        : `topic "${topic}" has no partition ${partition}`,
    );
    this.topic = topic;
    this.partition = partition;
  }
}

/** An operation on a transport or consumer that was closed. */
export class TransportClosedError extends KeelError {
  readonly code = 'KEEL_TRANSPORT_CLOSED';
  /** What was attempted, e.g. `append` or `poll`. */
  readonly operation: string;

  constructor(operation: string) {
    super(`${operation}: the transport or consumer is closed`);
    this.operation = operation;
  }
}

/** A second `poll` on a consumer whose previous poll has not finished: a consumer is not shared. */
export class ConsumerBusyError extends KeelError {
  readonly code = 'KEEL_TRANSPORT_CONSUMER_BUSY';
  readonly group: string;
  readonly memberId: string;

  constructor(group: string, memberId: string) {
    super(`group "${group}" member ${memberId}: poll called while another poll of this consumer is running`);
    this.group = group;
    this.memberId = memberId;
  }
}
