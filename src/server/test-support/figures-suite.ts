import { beforeAll, expect, it } from 'vitest';
import { PatientCreated } from '../../../examples/catalog.ts';
import type { ApiFixture } from './api-fixture.ts';
import { allRecords, request, seedDeadLetters } from './api-fixture.ts';
import { openSse, type SseFrame } from './sse-client.ts';

interface GroupFigure {
  group: string;
  lag?: number;
  held?: number;
}

/** The node's figures, now and as a stream of server-sent events, for a group the suite moves. */
export function figuresSuite(fixture: () => ApiFixture): void {
  let group: string;
  const publish = (patientId: string) =>
    fixture().node.publisher.publish(PatientCreated, {
      patientId,
      firstName: 'Ada',
      lastName: 'L',
      dateOfBirth: '1815-12-10',
    });
  const records = async () => (await allRecords(fixture().node, fixture().topic)).length;
  const commitAll = async () => {
    const { node, topic } = fixture();
    const ends = await node.transport.offsets(topic);
    await node.groupAdmin.commitOffsets(
      group,
      ends.map((p) => ({ topic, partition: p.partition, offset: p.latest })),
    );
  };

  beforeAll(async () => {
    const { node, topic } = fixture();
    group = fixture().group('figures');
    for (let i = 0; i < 4; i++) await publish(`f-${i}`);
    await node.groupAdmin.commitOffsets(group, [{ topic, partition: 0, offset: 0n }]);
    await seedDeadLetters(node, group, (await allRecords(node, topic)).slice(0, 2), 'TypeError', 'admit');
    node.metrics.circuitBreakerState.set({ name: 'billing-api' }, 1);
  });

  it('answers the figures now: lag per group, dead letters, breakers and workflows', async () => {
    const { node } = fixture();
    const held = await records();
    const answer = await request(node, 'GET', '/v1/figures');
    expect(answer.statusCode).toBe(200);
    const figures = answer.json();
    expect(figures).toMatchObject({ intervalMs: null, rates: null });
    expect(figures.lag.groups.find((g: GroupFigure) => g.group === group)).toEqual({ group, lag: held });
    expect(figures.deadLetters.groups.find((g: GroupFigure) => g.group === group)).toEqual({
      group,
      held: 2,
    });
    // The node's own publisher has a breaker too.
    expect(figures.breakers).toEqual(
      expect.arrayContaining([
        { name: 'billing-api', state: 'open' },
        { name: 'publisher', state: 'closed' },
      ]),
    );
    expect(figures.workflows).toEqual({
      atRisk: expect.any(Number),
      breached: expect.any(Number),
      needsOperator: expect.any(Number),
    });
  });

  it('streams figures as server-sent events, with the rates since the previous ones', async () => {
    const { node } = fixture();
    const stream = await openSse(`${node.url}/v1/live/figures?intervalMs=250`);
    try {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toContain('text/event-stream');
      const figures = (frame: SseFrame) => JSON.parse(frame.data ?? '{}');
      const first = await stream.until((frame) => frame.id === '1', 10_000);
      expect(figures(first).rates).toBeNull();
      const rates = (frame: SseFrame) => (frame.data === undefined ? null : figures(frame).rates);
      for (let i = 4; i < 8; i++) await publish(`f-${i}`);
      await stream.until((frame) => (rates(frame)?.appendedPerSecond ?? 0) > 0, 15_000);
      await stream.until((frame) => (rates(frame)?.publishedPerSecond ?? 0) > 0, 15_000);
      const before = stream.frames.length;
      await commitAll();
      const moved = await stream.until((frame) => (rates(frame)?.consumedPerSecond ?? 0) > 0, 15_000, before);
      const mine = figures(moved).lag.groups.find((g: GroupFigure) => g.group === group);
      expect(mine).toEqual({ group, lag: 0 });
      const failed = stream.frames.length;
      await seedDeadLetters(
        node,
        group,
        (await allRecords(node, fixture().topic)).slice(0, 1),
        'TypeError',
        'admit',
      );
      await stream.until((frame) => (rates(frame)?.deadLetteredPerSecond ?? 0) > 0, 15_000, failed);
      expect(figures(moved).intervalMs).toBeGreaterThanOrEqual(200);
    } finally {
      stream.close();
    }
  });

  it('refuses an interval out of bounds, naming it', async () => {
    const answer = await request(fixture().node, 'GET', '/v1/live/figures?intervalMs=10');
    expect(answer.statusCode).toBe(400);
    expect(answer.json().errors[0].path).toBe('query.intervalMs');
  });
}
