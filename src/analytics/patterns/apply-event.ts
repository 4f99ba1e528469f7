// What one event does to the open patterns of every rule: the matches it completes and the state it leaves.
import type { CloudEvent } from '../../events/cloud-event.ts';
import type { CompiledRule } from './compile-rules.ts';
import type { PatternState } from './sqlite-state.ts';

/** A completed pattern, before it becomes a `keel.analytics.pattern.matched` event. */
export interface Match {
  rule: string;
  kind: CompiledRule['kind'];
  key: string;
  eventIds: string[];
  /** Event time of the match (last event, or the deadline of an absence), milliseconds since the epoch. */
  at: number;
}

/**
 * Applies one event to every rule. `source` names the partition the event came from: absences on that
 * partition whose deadline is before this event's time have seen their window close (event time is the
 * partition's clock) and match. Runs inside the caller's transaction.
 */
export function applyEvent(
  rules: readonly CompiledRule[],
  state: PatternState,
  event: CloudEvent,
  source: string,
): Match[] {
  const time = Date.parse(event.time ?? '');
  if (Number.isNaN(time)) return [];
  const matches: Match[] = [];
  for (const rule of rules) {
    if (rule.kind === 'absence') matches.push(...closeAbsences(rule, state, source, time));
    const key = rule.key(event);
    if (key === undefined) continue;
    switch (rule.kind) {
      case 'sequence':
        applySequence(rule, state, event, key, time, source, matches);
        break;
      case 'absence':
        if (rule.missing.test(event)) state.cancelOpen(rule.id, key, time);
        if (rule.first.test(event))
          state.add(rule.id, key, source, { eventId: event.id, eventTime: time }, time + rule.withinMs);
        break;
      case 'threshold':
        applyThreshold(rule, event, key, time, matches);
        break;
      case 'count':
        applyCount(rule, state, event, key, time, source, matches);
        break;
    }
  }
  return matches;
}

/** Absences whose window closed before `time` (on one source, or all when undefined): each is a match. */
export function closeAbsences(
  rule: Extract<CompiledRule, { kind: 'absence' }>,
  state: PatternState,
  source: string | undefined,
  time: number,
): Match[] {
  return state.expired(rule.id, source, time).map((pending) => {
    state.remove(rule.id, pending.eventId);
    return {
      rule: rule.id,
      kind: 'absence',
      key: pending.key,
      eventIds: [pending.eventId],
      at: pending.eventTime + rule.withinMs,
    };
  });
}

function applySequence(
  rule: Extract<CompiledRule, { kind: 'sequence' }>,
  state: PatternState,
  event: CloudEvent,
  key: string,
  time: number,
  source: string,
  matches: Match[],
): void {
  const isNext = rule.next.test(event);
  const isFirst = rule.first.test(event);
  if (!isNext && !isFirst) return;
  state.dropOlder(rule.id, key, time - rule.withinMs);
  if (isNext) {
    const first = state
      .ofKey(rule.id, key, time - rule.withinMs)
      .find((p) => p.eventTime <= time && p.eventId !== event.id);
    if (first) {
      state.remove(rule.id, first.eventId);
      matches.push({ rule: rule.id, kind: 'sequence', key, eventIds: [first.eventId, event.id], at: time });
      return;
    }
  }
  if (isFirst) state.add(rule.id, key, source, { eventId: event.id, eventTime: time }, time + rule.withinMs);
}

function applyThreshold(
  rule: Extract<CompiledRule, { kind: 'threshold' }>,
  event: CloudEvent,
  key: string,
  time: number,
  matches: Match[],
): void {
  if (!rule.on.test(event)) return;
  const raw = rule.value(event);
  const value = typeof raw === 'bigint' ? Number(raw) : raw;
  if (typeof value !== 'number' || Number.isNaN(value)) return;
  if ((rule.above !== undefined && value > rule.above) || (rule.below !== undefined && value < rule.below)) {
    matches.push({ rule: rule.id, kind: 'threshold', key, eventIds: [event.id], at: time });
  }
}

function applyCount(
  rule: Extract<CompiledRule, { kind: 'count' }>,
  state: PatternState,
  event: CloudEvent,
  key: string,
  time: number,
  source: string,
  matches: Match[],
): void {
  if (!rule.on.test(event)) return;
  state.dropOlder(rule.id, key, time - rule.withinMs);
  state.add(rule.id, key, source, { eventId: event.id, eventTime: time }, time + rule.withinMs);
  const window = state.ofKey(rule.id, key, time - rule.withinMs);
  if (window.length < rule.atLeast) return;
  for (const pending of window) state.remove(rule.id, pending.eventId);
  matches.push({ rule: rule.id, kind: 'count', key, eventIds: window.map((p) => p.eventId), at: time });
}
