import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatientCreated } from '../../examples/catalog.ts';
import { allRecords, patientCatalog, request, seedDeadLetters } from './test-support/api-fixture.ts';
import { openSse, type SseFrame } from './test-support/sse-client.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';

const topic = 'api.figures.patients';
const group = 'figures-readers';
let temp: TempNode;

const publish = (patientId: string) =>
  temp.node.publisher.publish(PatientCreated, {
    patientId,
    firstName: 'Ada',
    lastName: 'L',
    dateOfBirth: '1815-12-10',
  });

/** Commits the group past every record of the topic (as a consumer that handled them). */
async function commitAll(): Promise<void> {
  const ends = await temp.node.transport.offsets(topic);
  await temp.node.groupAdmin.commitOffsets(
    group,
    ends.map((p) => ({ topic, partition: p.partition, offset: p.latest })),
  );
}

beforeAll(async () => {
  temp = await startTempNode({ catalog: patientCatalog(topic) });
  for (let i = 0; i < 4; i++) await publish(`p-${i}`);
  await temp.node.groupAdmin.commitOffsets(group, [{ topic, partition: 0, offset: 0n }]);
  await seedDeadLetters(
    temp.node,
    group,
    (await allRecords(temp.node, topic)).slice(0, 2),
    'TypeError',
    'admit',
  );
  temp.node.metrics.circuitBreakerState.set({ name: 'billing-api' }, 1);
});
afterAll(async () => {
  await temp?.close();
});

describe('node figures', () => {
  it('answers the figures now: lag per group, dead letters, breakers and workflows', async () => {
    const answer = await request(temp.node, 'GET', '/v1/figures');
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({
      intervalMs: null,
      rates: null,
      lag: { total: 4, groups: [{ group, lag: 4 }] },
      deadLetters: { total: 2, groups: [{ group, held: 2 }] },
      // The node's own publisher has a breaker too.
      breakers: [
        { name: 'billing-api', state: 'open' },
        { name: 'publisher', state: 'closed' },
      ],
      workflows: { atRisk: 0, breached: 0, needsOperator: 0 },
    });
  });

  it('streams figures as server-sent events, with the rates since the previous ones', async () => {
    const stream = await openSse(`${temp.node.url}/v1/live/figures?intervalMs=250`);
    try {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toContain('text/event-stream');
      const figures = (frame: SseFrame) => JSON.parse(frame.data ?? '{}');
      const first = await stream.until((frame) => frame.id === '1');
      expect(figures(first)).toMatchObject({ rates: null, lag: { total: 4 } });
      for (let i = 4; i < 8; i++) await publish(`p-${i}`);
      await commitAll();
      const moved = await stream.until((frame) => {
        const rates = frame.data === undefined ? null : figures(frame).rates;
        return rates !== null && rates.appendedPerSecond > 0 && rates.consumedPerSecond > 0;
      }, 10_000);
      expect(figures(moved)).toMatchObject({ lag: { total: 0 } });
      expect(figures(moved).rates.publishedPerSecond).toBeGreaterThan(0);
      expect(figures(moved).intervalMs).toBeGreaterThanOrEqual(200);
    } finally {
      stream.close();
    }
  });

  it('ends open streams when the node closes, without waiting for their clients', async () => {
    const other = await startTempNode({ catalog: patientCatalog('api.figures.closing') });
    const stream = await openSse(`${other.node.url}/v1/live/figures?intervalMs=15000`);
    try {
      await stream.until((frame) => frame.id === '1');
      const started = Date.now();
      await other.close();
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      stream.close();
    }
  });

  it('refuses an interval out of bounds, naming it', async () => {
    const answer = await request(temp.node, 'GET', '/v1/live/figures?intervalMs=10');
    expect(answer.statusCode).toBe(400);
    expect(answer.json().errors[0].path).toBe('query.intervalMs');
  });
});
