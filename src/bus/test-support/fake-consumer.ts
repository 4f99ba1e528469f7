import type { Consumer, OffsetCommit, StoredRecord, TopicPartition } from '../../transport/transport.ts';

/** A group member that records what it was asked (commits, pauses, resumes), for unit tests of router pieces. */
export interface FakeConsumer extends Consumer {
  commits: OffsetCommit[][];
  paused: TopicPartition[];
  resumed: TopicPartition[];
  /** Makes the next commits fail with this error until set back to undefined. */
  refuseCommits: Error | undefined;
}

/** Creates a fake group member. */
export function fakeConsumer(): FakeConsumer {
  const consumer: FakeConsumer = {
    memberId: 'fake',
    commits: [],
    paused: [],
    resumed: [],
    refuseCommits: undefined,
    poll: async () => [],
    async commit(offsets) {
      if (consumer.refuseCommits) throw consumer.refuseCommits;
      consumer.commits.push([...offsets]);
    },
    async appendAndCommit(_writes, offsets) {
      await consumer.commit(offsets);
    },
    assignment: () => [],
    pause: (partitions) => void consumer.paused.push(...partitions),
    resume: (partitions) => void consumer.resumed.push(...partitions),
    close: async () => {},
  };
  return consumer;
}

/** A stored record of `topic`/`partition` at `offset`, with a key and headers. */
export function storedRecord(
  offset: number,
  key: string | null = null,
  headers: Record<string, string> = {},
  topic = 't',
  partition = 0,
): StoredRecord {
  return { topic, partition, offset: BigInt(offset), key, value: null, headers, timestamp: 0 };
}
