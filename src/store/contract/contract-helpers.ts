import type { CloudEvent } from '../../events/cloud-event.ts';
import { newEventId } from '../../events/event-id.ts';
import type { EventStore, ReadAllOptions, StoredEvent } from '../event-store.ts';

/** A valid CloudEvent of `type` with JSON data; `extra` overrides or adds attributes. */
export function testEvent(type: string, data: unknown = {}, extra: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id: newEventId(),
    source: '/contract',
    type,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
    ...extra,
  };
}

/** `count` events of `type`, numbered in their data as `n`: 1, 2, ... */
export function testEvents(
  count: number,
  type = 'contract.counted',
  extra: Partial<CloudEvent> = {},
): CloudEvent[] {
  return Array.from({ length: count }, (_, i) => testEvent(type, { n: i + 1 }, extra));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads every page of `readAll` (pages of `pageSize`) and returns the events in read order. */
export async function readEverything(
  store: EventStore,
  options: Omit<ReadAllOptions, 'maxCount'> = {},
  pageSize = 1000,
): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let after = options.after;
  for (;;) {
    const page = await store.readAll({ ...options, after, maxCount: pageSize });
    events.push(...page.events);
    after = page.next;
    if (!page.hasMore) return events;
  }
}

/** A promise with its resolve function, for holding something open until the test says so. */
export interface Latch {
  promise: Promise<void>;
  open(): void;
}

/** A closed latch. */
export function latch(): Latch {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Ids of the events, for comparisons. */
export const idsOf = (events: readonly StoredEvent[]): string[] => events.map((e) => e.event.id);

/** Captures a rejection (or fails the test when the promise resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the operation to be refused, but it succeeded');
}

/** Checks `condition` every 5 ms until it holds; fails after `timeoutMs` (default 5 seconds). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await sleep(5);
  }
}

/** Where one reader met a stream's version out of order: `after` is the version it read before. */
export interface StreamOrderViolation {
  streamId: string;
  after: number;
  version: number;
}

/**
 * Checks that a reader met each stream's versions in order, one after the other (it read gap-free from
 * its start, so after version n of a stream comes n + 1). Returns every place where it did not.
 */
export function streamOrderViolations(
  events: readonly { streamId: string; version: number }[],
): StreamOrderViolation[] {
  const last = new Map<string, number>();
  const violations: StreamOrderViolation[] = [];
  for (const { streamId, version } of events) {
    const before = last.get(streamId);
    if (before !== undefined && version !== before + 1) violations.push({ streamId, after: before, version });
    last.set(streamId, version);
  }
  return violations;
}
