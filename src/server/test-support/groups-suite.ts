import { expect, it } from 'vitest';
import type { Consumer } from '../../transport/transport.ts';
import { type ApiFixture, request } from './api-fixture.ts';

/** Reads and commits everything the consumer is given until it has seen `count` records. */
async function consumeAll(consumer: Consumer, count: number): Promise<void> {
  let seen = 0;
  const deadline = Date.now() + 20_000;
  while (seen < count && Date.now() < deadline) {
    const records = await consumer.poll(500);
    seen += records.length;
    const next = new Map<string, { topic: string; partition: number; offset: bigint }>();
    for (const r of records)
      next.set(`${r.topic}:${r.partition}`, {
        topic: r.topic,
        partition: r.partition,
        offset: r.offset + 1n,
      });
    if (next.size > 0) await consumer.commit([...next.values()]);
  }
  expect(seen).toBe(count);
}

interface ResetAnswer {
  applied: boolean;
  live: boolean;
  changes: { partition: number; from: string | null; to: string; lagBefore: string; lagAfter: string }[];
}

/** Consumer group API tests; the topic must hold 6 records (the topics suite seeds them). */
export function groupsSuite(fixture: () => ApiFixture, options: { sessionTimeoutMs: number }): void {
  const post = (url: string, body: unknown) =>
    request(fixture().node, 'POST', url, body, { 'keel-actor': 'ops-ada' });
  const get = (url: string) => request(fixture().node, 'GET', url);
  let group: string;

  it('lists a group that consumed the topic with lag per partition and in total', async () => {
    const { node, topic } = fixture();
    group = fixture().group('readers');
    const consumer = node.transport.consumer({
      group,
      topics: [topic],
      sessionTimeoutMs: options.sessionTimeoutMs,
    });
    await consumeAll(consumer, 6);
    await consumer.close();
    const list = (await get(`/v1/groups?prefix=${group}`)).json() as { items: { group: string }[] };
    const mine = list.items.find((g) => g.group === group);
    expect(mine).toMatchObject({ live: false, members: 0, topics: [topic], lag: { total: '0' } });
    expect((mine as unknown as { lag: { partitions: unknown[] } }).lag.partitions).toHaveLength(3);
    const one = (await get(`/v1/groups/${group}`)).json();
    expect(one).toMatchObject({ group, memberList: [] });
    const topicView = (await get(`/v1/topics/${topic}`)).json();
    expect(topicView).toMatchObject({ groups: expect.arrayContaining([{ group, lag: '0' }]) });
  });

  it('shows a reset to earliest as a dry run without changing anything, then applies it', async () => {
    const { node, topic } = fixture();
    const dry = await post(`/v1/groups/${group}/reset`, { topic, to: 'earliest', dryRun: true });
    expect(dry.statusCode).toBe(200);
    const plan = dry.json() as ResetAnswer;
    expect(plan.applied).toBe(false);
    expect(plan.changes.reduce((sum, c) => sum + BigInt(c.lagAfter), 0n)).toBe(6n);
    expect((await node.transport.groupLag(group, [topic])).reduce((sum, l) => sum + l.lag, 0n)).toBe(0n);

    const applied = (
      await post(`/v1/groups/${group}/reset`, { topic, to: 'earliest', reason: 'replay' })
    ).json() as ResetAnswer;
    expect(applied).toMatchObject({ applied: true, actor: 'ops-ada' });
    expect((await node.transport.groupLag(group, [topic])).reduce((sum, l) => sum + l.lag, 0n)).toBe(6n);

    const toLatest = (
      await post(`/v1/groups/${group}/reset`, { topic, to: 'latest', partitions: [0] })
    ).json() as ResetAnswer;
    expect(toLatest.changes.map((c) => c.partition)).toEqual([0]);
    const lag0 = (await node.transport.groupLag(group, [topic])).find((l) => l.partition === 0);
    expect(lag0?.lag).toBe(0n);
    const byOffset = (
      await post(`/v1/groups/${group}/reset`, { topic, to: { offset: '999' }, dryRun: true })
    ).json() as ResetAnswer;
    expect(byOffset.changes.every((c) => c.lagAfter === '0')).toBe(true);
    const byTime = (
      await post(`/v1/groups/${group}/reset`, { topic, to: { time: '2000-01-01T00:00:00Z' }, dryRun: true })
    ).json() as ResetAnswer;
    expect(byTime.changes.reduce((sum, c) => sum + BigInt(c.lagAfter), 0n)).toBe(6n);
  });

  it('refuses to reset a live group with 409, but shows the dry run', async () => {
    const { node, topic } = fixture();
    const consumer = node.transport.consumer({
      group,
      topics: [topic],
      sessionTimeoutMs: options.sessionTimeoutMs,
    });
    try {
      const deadline = Date.now() + 20_000;
      while (consumer.assignment().length === 0 && Date.now() < deadline) await consumer.poll(200);
      const before = await node.transport.groupLag(group, [topic]);
      const refused = await post(`/v1/groups/${group}/reset`, { topic, to: 'latest' });
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({
        type: 'https://keel.dev/problems/group-live',
        errors: [{ path: 'params.group' }],
      });
      expect(await node.transport.groupLag(group, [topic])).toEqual(before);
      const dry = (
        await post(`/v1/groups/${group}/reset`, { topic, to: 'latest', dryRun: true })
      ).json() as ResetAnswer;
      expect(dry).toMatchObject({ live: true, applied: false });
      expect(((await get(`/v1/groups/${group}`)).json() as { members: number }).members).toBe(1);
    } finally {
      await consumer.close();
    }
  });

  it('answers bad reset input with problem+json naming the field, and changes nothing', async () => {
    const { node, topic } = fixture();
    const before = await node.transport.groupLag(group, [topic]);
    const cases: [string, unknown, number, string][] = [
      [`/v1/groups/${group}/reset`, { topic, to: 'yesterday' }, 400, 'body.to'],
      [`/v1/groups/${group}/reset`, { to: 'earliest' }, 400, 'body.topic'],
      [`/v1/groups/${group}/reset`, { topic, to: 'earliest', partitions: [42] }, 422, 'body.partitions'],
      [`/v1/groups/${group}/reset`, { topic: 'no.such.topic', to: 'earliest' }, 404, 'body.topic'],
      [`/v1/groups/${fixture().group('never')}/reset`, { topic, to: 'earliest' }, 404, 'params.group'],
      [`/v1/groups/${group}/reset`, { topic, to: 'earliest', dryRun: 'yes' }, 400, 'body.dryRun'],
    ];
    for (const [url, body, status, path] of cases) {
      const response = await post(url, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(status);
      expect(response.json()).toMatchObject({
        errors: expect.arrayContaining([expect.objectContaining({ path })]),
      });
    }
    const malformed = await request(node, 'POST', `/v1/groups/${group}/reset`, undefined, {
      'content-type': 'application/json',
    });
    expect(malformed.statusCode).toBe(400);
    expect(await node.transport.groupLag(group, [topic])).toEqual(before);
  });
}
