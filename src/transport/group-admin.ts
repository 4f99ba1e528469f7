import { KeelError } from '../errors/keel-error.ts';
import type { OffsetCommit, TopicPartition } from './transport.ts';

/** Where to move a group's committed offsets: an end of the log, the first record at a time, or an offset. */
export type GroupResetTarget = 'earliest' | 'latest' | { timestamp: number } | { offset: bigint };

/** One live member of a consumer group. */
export interface GroupMemberInfo {
  id: string;
  /** Topics it subscribes to, when the transport knows. */
  topics: string[];
  /** Partitions it holds now. */
  assignment: TopicPartition[];
}

/** A consumer group as the transport sees it. */
export interface GroupInfo {
  group: string;
  /** `live` (members), `empty` (offsets, no member), or the broker's state name on Kafka (`Stable`, ...). */
  state: string;
  /** True while a member is live: offsets must not be reset then. */
  live: boolean;
  members: GroupMemberInfo[];
  /** Topics the group subscribes to or has committed offsets on, sorted. */
  topics: string[];
}

/**
 * Administration of consumer groups beside the Transport port: which groups exist, who is in them, and
 * moving a group's committed offsets while it has no live member.
 */
export interface GroupAdmin {
  /** Every group the transport knows, sorted by id. */
  listGroups(): Promise<string[]>;
  /** Topics each group subscribes to or has committed offsets on, in one call (for lag per topic). */
  topicsByGroup(): Promise<Map<string, string[]>>;
  /** One group, or undefined when the transport has never seen it. */
  describeGroup(group: string): Promise<GroupInfo | undefined>;
  /**
   * Commits these offsets for the group (partitions not listed keep theirs); throws GroupLiveError when
   * the group has a live member, whose commits would overwrite the reset.
   */
  commitOffsets(group: string, offsets: readonly OffsetCommit[]): Promise<void>;
  /** Releases what the admin holds (connections); the transport stays open. */
  close(): Promise<void>;
}

/** A reset refused because the group has live members. */
export class GroupLiveError extends KeelError {
  readonly code = 'KEEL_GROUP_LIVE';
  readonly group: string;
  /** Live members when refused. */
  readonly members: number;

  constructor(group: string, members: number) {
    super(`consumer group ${group} has ${members} live member(s): stop them before resetting its offsets`);
    this.group = group;
    this.members = members;
  }
}
