import { z } from 'zod';
import type { CollectedTrace, TraceEvent } from './collect-trace.ts';

const topicLocationSchema = z.object({
  topic: z.string(),
  partition: z.int(),
  offset: z.string().describe('Offset in the partition, as digits.'),
  appendedAt: z.iso.datetime(),
  handledBy: z
    .array(z.string())
    .describe('Consumer groups whose committed offset on the partition is past this record.'),
});

const storeLocationSchema = z.object({
  streamId: z.string(),
  version: z.int(),
  position: z.string().describe('Global position, as digits.'),
  recordedAt: z.iso.datetime(),
});

/** JSON shape of one event of a trace, in tree order. */
export const traceNodeSchema = z.object({
  id: z.string(),
  type: z.string(),
  source: z.string(),
  time: z.string().nullable().describe('The CloudEvents `time`, as the producer set it.'),
  causationId: z
    .string()
    .nullable()
    .describe('The `causationid` extension: the id of the event that caused it.'),
  parentId: z.string().nullable().describe('The causing event when it is in this trace; null for a root.'),
  depth: z.int().describe('0 for a root, then 1, 2, ... down the causation tree.'),
  children: z.array(z.string()).describe('Ids of the events it caused, oldest first.'),
  topics: z.array(topicLocationSchema).describe('Where it is on the bus.'),
  store: z.array(storeLocationSchema).describe('Where it is in the event store.'),
  event: z.record(z.string(), z.unknown()).describe('The CloudEvent.'),
});

/** JSON shape of a trace. */
export const traceSchema = z.object({
  correlationId: z.string(),
  roots: z.array(z.string()).describe('Events whose cause is not in the trace, oldest first.'),
  events: z
    .array(traceNodeSchema)
    .describe('Every event, depth first from each root, children oldest first.'),
  scanned: z.int().describe('Topic records looked at.'),
  complete: z.boolean().describe('False when a bound (`maxScan`, `maxEvents`) stopped the search early.'),
});

/** When an event happened, for ordering: its first location's time, else its `time`. */
function whenOf(node: TraceEvent): number {
  const first = node.locations[0];
  if (first !== undefined) return first.kind === 'topic' ? first.appendedAt : first.recordedAt;
  return Date.parse(node.event.time ?? '') || 0;
}

function nodeView(node: TraceEvent, parentId: string | null, depth: number, children: string[]) {
  const { event } = node;
  const copy: Record<string, unknown> = { ...event };
  if (copy.data instanceof Uint8Array) {
    copy.data_base64 = Buffer.from(copy.data).toString('base64');
    delete copy.data;
  }
  return {
    id: event.id,
    type: event.type,
    source: event.source,
    time: event.time ?? null,
    causationId: event.causationid ?? null,
    parentId,
    depth,
    children,
    topics: node.locations.flatMap((l) =>
      l.kind === 'topic'
        ? [
            {
              topic: l.topic,
              partition: l.partition,
              offset: l.offset.toString(),
              appendedAt: new Date(l.appendedAt).toISOString(),
              handledBy: l.handledBy,
            },
          ]
        : [],
    ),
    store: node.locations.flatMap((l) =>
      l.kind === 'store'
        ? [
            {
              streamId: l.streamId,
              version: l.version,
              position: l.position.toString(),
              recordedAt: new Date(l.recordedAt).toISOString(),
            },
          ]
        : [],
    ),
    event: copy,
  };
}

/** Orders a trace as a causation tree (`causationid` links), depth first, each level oldest first. */
export function traceTree(trace: CollectedTrace): z.input<typeof traceSchema> {
  const nodes = trace.events;
  const byTime = (a: TraceEvent, b: TraceEvent) =>
    whenOf(a) - whenOf(b) || a.event.id.localeCompare(b.event.id);
  const children = new Map<string, TraceEvent[]>();
  const roots: TraceEvent[] = [];
  for (const node of nodes.values()) {
    const parent = node.event.causationid;
    if (parent !== undefined && parent !== node.event.id && nodes.has(parent)) {
      children.set(parent, [...(children.get(parent) ?? []), node]);
    } else roots.push(node);
  }
  const events: ReturnType<typeof nodeView>[] = [];
  const seen = new Set<string>();
  const visit = (node: TraceEvent, parentId: string | null, depth: number) => {
    if (seen.has(node.event.id)) return;
    seen.add(node.event.id);
    const kids = (children.get(node.event.id) ?? []).sort(byTime);
    events.push(
      nodeView(
        node,
        parentId,
        depth,
        kids.map((k) => k.event.id),
      ),
    );
    for (const kid of kids) visit(kid, node.event.id, depth + 1);
  };
  roots.sort(byTime);
  for (const root of roots) visit(root, null, 0);
  // A causation cycle (hand-made ids) has no root: its events are shown as roots so none is lost.
  for (const node of [...nodes.values()].sort(byTime)) {
    if (!seen.has(node.event.id)) {
      roots.push(node);
      visit(node, null, 0);
    }
  }
  return {
    correlationId: trace.correlationId,
    roots: roots.map((r) => r.event.id),
    events,
    scanned: trace.scanned,
    complete: trace.complete,
  };
}
