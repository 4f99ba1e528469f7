import { get as httpGet } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatientCreated } from '../../examples/catalog.ts';
import { patientCatalog, request } from './test-support/api-fixture.ts';
import { liveSuite } from './test-support/live-suite.ts';
import { openSse, type SseFrame } from './test-support/sse-client.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';

const TOPIC = 'live.patients';
let temp: TempNode;
beforeAll(async () => {
  temp = await startTempNode({
    catalog: patientCatalog(TOPIC),
    liveTail: { heartbeatMs: 150, pollMs: 20, maxBufferedBytes: 16 * 1024, drainTimeoutMs: 300 },
  });
});
afterAll(async () => {
  await temp?.close();
});

const url = (query = '') => `${temp.node.url}/v1/topics/${TOPIC}/live${query}`;
const publish = (patientId: string, tenantId?: string, lastName = 'Lovelace') =>
  temp.node.publisher.publish(
    PatientCreated,
    { patientId, firstName: 'Ada', lastName, dateOfBirth: '1815-12-10' },
    tenantId ? { tenantId } : {},
  );
const isEvent = (frame: SseFrame) => frame.data !== undefined;

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('GET /v1/topics/:topic/live (server-sent events)', () => {
  liveSuite(() => ({
    node: temp.node,
    topic: TOPIC,
    group: (label) => `live-${label}`,
    totalRecords: () => temp.totalRecords(),
    close: () => temp.close(),
  }));

  it('sends heartbeat comments while idle, joins no consumer group, and stops when the client goes', async () => {
    const groupsBefore = await temp.node.groupAdmin.listGroups();
    const tail = await openSse(url('?type=no.such.type'));
    await tail.until((frame) => frame.comment === 'heartbeat', 2_000);
    expect(temp.node.liveTails.active()).toBe(1);
    expect(await temp.node.groupAdmin.listGroups()).toEqual(groupsBefore);
    tail.close();
    await eventually(() => temp.node.liveTails.active() === 0);
  });

  it('disconnects a client that does not read instead of buffering without bound', async () => {
    const slowBefore = temp.node.liveTails.slowDisconnects();
    const big = 'x'.repeat(60_000);
    // A client that reads keeps up with the same stream of large messages and stays connected.
    const reader = await openSse(url('?where=data.lastName~%3D"xxx"'));
    await reader.until((frame) => frame.comment?.startsWith('tailing') === true);
    let closed = false;
    const client = httpGet(url());
    client.on('response', (response) => {
      response.pause(); // never reads
      response.on('close', () => {
        closed = true;
      });
    });
    client.on('error', () => {
      closed = true;
    });
    await eventually(() => temp.node.liveTails.active() === 2);
    let last: Awaited<ReturnType<typeof publish>> | undefined;
    for (let i = 0; i < 400 && temp.node.liveTails.slowDisconnects() === slowBefore; i++) {
      last = await publish(`big-${i}`, undefined, big);
    }
    await eventually(() => temp.node.liveTails.slowDisconnects() === slowBefore + 1);
    await eventually(() => temp.node.liveTails.active() === 1);
    client.destroy();
    await eventually(() => closed);
    await reader.until((frame) => frame.id === `${last?.partition}:${last?.offset}`);
    const sent = reader.frames.filter(isEvent).length;
    expect(sent).toBeGreaterThan(1);
    expect(temp.node.liveTails.active()).toBe(1);
    reader.close();
    await eventually(() => temp.node.liveTails.active() === 0);
  });

  it('answers bad requests before streaming: 404 topic, 400 filter, 422 partition', async () => {
    const missing = await request(temp.node, 'GET', '/v1/topics/no.such.topic/live');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    const badWhere = await request(temp.node, 'GET', `/v1/topics/${TOPIC}/live?where=data..x%3D%3D1`);
    expect(badWhere.statusCode).toBe(400);
    expect(badWhere.json()).toMatchObject({ errors: [{ path: 'query.where' }] });
    const badFrom = await request(temp.node, 'GET', `/v1/topics/${TOPIC}/live?from=yesterday`);
    expect(badFrom.json()).toMatchObject({ status: 400, errors: [{ path: 'query.from' }] });
    const partition = await request(temp.node, 'GET', `/v1/topics/${TOPIC}/live?partition=7`);
    expect(partition.json()).toMatchObject({ status: 422, errors: [{ path: 'query.partition' }] });
  });

  it('ends open tails when the node closes', async () => {
    const other = await startTempNode({ catalog: patientCatalog(TOPIC) });
    const tail = await openSse(`${other.node.url}/v1/topics/${TOPIC}/live`);
    await tail.until((frame) => frame.comment?.startsWith('tailing') === true);
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(other.node.liveTails.active()).toBe(0);
    tail.close();
  });
});
