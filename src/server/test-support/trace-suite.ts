import { afterAll, beforeAll, expect, it } from 'vitest';
import { PatientCreated, PatientUpdated } from '../../../examples/catalog.ts';
import type { PublishReceipt } from '../../bus/publisher-port.ts';
import { createRouter } from '../../bus/router.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { createEvent } from '../../events/create-event.ts';
import type { KeelNode } from '../node.ts';
import { decodeRecord } from '../topics/message-filter.ts';
import type { ApiFixture } from './api-fixture.ts';
import { request } from './api-fixture.ts';

interface TraceNode {
  id: string;
  parentId: string | null;
  depth: number;
  children: string[];
  topics: { topic: string; handledBy: string[] }[];
  store: { streamId: string; version: number }[];
}

/** The event a receipt points at, read back from its topic. */
async function eventAt(node: KeelNode, receipt: PublishReceipt): Promise<CloudEvent> {
  const [record] = await node.transport.read(receipt.topic, receipt.partition, receipt.offset, 1);
  const event = record === undefined ? undefined : decodeRecord(record);
  if (event === undefined)
    throw new Error(`no event at ${receipt.topic}:${receipt.partition}:${receipt.offset}`);
  return event;
}

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Trace routes: a root published on the topic, a handler in a consumer group that publishes an update
 * caused by it, and a store event caused by the update — one causation tree across the bus and the store.
 */
export function traceSuite(fixture: () => ApiFixture): void {
  let root: CloudEvent;
  let child: CloudEvent | undefined;
  let stored: CloudEvent;
  let group: string;
  let closeRouter: () => Promise<void> = async () => {};

  beforeAll(async () => {
    const { node, topic } = fixture();
    group = fixture().group('trace');
    const patientId = `trace-${Date.now()}`;
    const router = createRouter({ transport: node.transport, catalog: node.catalog, group });
    router.on(PatientCreated, async (event) => {
      if (event.data?.patientId !== patientId) return;
      const receipt = await node.publisher.publish(PatientUpdated, { patientId, changes: { seen: true } });
      child = await eventAt(node, receipt);
    });
    await router.start();
    closeRouter = () => router.close(10_000);
    const receipt = await node.publisher.publish(PatientCreated, {
      patientId,
      firstName: 'Ada',
      lastName: 'Trace',
      dateOfBirth: '1815-12-10',
    });
    root = await eventAt(node, receipt);
    await until(async () => child !== undefined);
    // The group has committed past the root once its lag on the root's partition is gone.
    await until(async () => {
      const lag = await node.transport.groupLag(group, [topic]);
      return lag.every((p) => p.lag === 0n) && lag.some((p) => p.committed !== null);
    });
    stored = createEvent(
      PatientUpdated,
      { patientId, changes: { archived: true } },
      { source: 'urn:test:trace', correlationId: root.id, causationId: child!.id },
    );
    await node.store.store.append(`patient-${patientId}`, [stored]);
  }, 60_000);

  afterAll(async () => {
    await closeRouter();
  });

  it('follows an event across the topic and the store as a causation tree, with the groups that handled it', async () => {
    const { node, topic } = fixture();
    const answer = await request(node, 'GET', `/v1/trace/${child!.id}`);
    expect(answer.statusCode).toBe(200);
    const trace = answer.json();
    expect(trace).toMatchObject({
      eventId: child!.id,
      correlationId: root.id,
      roots: [root.id],
      complete: true,
    });
    const byId = new Map<string, TraceNode>(trace.events.map((e: TraceNode) => [e.id, e]));
    expect(trace.events.map((e: TraceNode) => e.id)).toEqual([root.id, child!.id, stored.id]);
    expect(byId.get(root.id)).toMatchObject({ parentId: null, depth: 0, children: [child!.id] });
    expect(byId.get(child!.id)).toMatchObject({ parentId: root.id, depth: 1, children: [stored.id] });
    expect(byId.get(stored.id)).toMatchObject({ parentId: child!.id, depth: 2, topics: [] });
    expect(byId.get(stored.id)!.store).toEqual([expect.objectContaining({ version: 1 })]);
    expect(byId.get(root.id)!.topics).toEqual([expect.objectContaining({ topic, handledBy: [group] })]);
  });

  it('answers the same tree by correlation id, and 404 for an unknown event', async () => {
    const { node } = fixture();
    const byCorrelation = await request(node, 'GET', `/v1/trace?correlationId=${root.id}`);
    expect(byCorrelation.statusCode).toBe(200);
    expect(byCorrelation.json().events.map((e: TraceNode) => e.id)).toEqual([root.id, child!.id, stored.id]);
    const missing = await request(node, 'GET', '/v1/trace/no-such-event');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().errors[0].path).toBe('params.eventId');
  });

  it('says when a bound stopped the search', async () => {
    const { node } = fixture();
    const bounded = await request(node, 'GET', `/v1/trace?correlationId=${root.id}&maxEvents=1`);
    expect(bounded.json()).toMatchObject({ complete: false });
    expect(bounded.json().events).toHaveLength(1);
    // One topic record looked at: the store's events are all there, the topics' are not.
    const scanned = await request(node, 'GET', `/v1/trace?correlationId=${root.id}&maxScan=1`);
    expect(scanned.json()).toMatchObject({ complete: false, scanned: 1 });
    expect(scanned.json().events.map((e: TraceNode) => e.id)).toContain(stored.id);
    const bad = await request(node, 'GET', '/v1/trace?correlationId=x&maxScan=0');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('query.maxScan');
  });
}
