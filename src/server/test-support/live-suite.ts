import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { PatientCreated } from '../../../examples/catalog.ts';
import type { ApiFixture } from './api-fixture.ts';
import { openSse, type SseFrame } from './sse-client.ts';

const isEvent = (frame: SseFrame) => frame.data !== undefined;
const message = (frame: SseFrame) =>
  JSON.parse(frame.data as string) as { partition: number; offset: string; event: Record<string, unknown> };

/** Live tail tests (server-sent events over a real connection) for a fixture on any transport. */
export function liveSuite(fixture: () => ApiFixture): void {
  const url = (query = '') => `${fixture().node.url}/v1/topics/${fixture().topic}/live${query}`;
  const publish = (patientId: string, tenantId?: string) =>
    fixture().node.publisher.publish(
      PatientCreated,
      { patientId, firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1815-12-10' },
      tenantId ? { tenantId } : {},
    );

  it('streams new matching events from now on, each with id partition:offset', async () => {
    await publish('before-tail', 'north');
    const tail = await openSse(url('?tenant=north'));
    try {
      expect(tail.status).toBe(200);
      expect(tail.contentType).toMatch(/^text\/event-stream/);
      await tail.until((frame) => frame.comment?.startsWith('tailing') === true);
      const north = [await publish('live-1', 'north'), await publish('live-2', 'north')];
      await publish('live-3', 'south');
      await publish('live-4');
      const seen: SseFrame[] = [];
      for (const receipt of north) {
        seen.push(await tail.until((frame) => frame.id === `${receipt.partition}:${receipt.offset}`));
      }
      await sleep(300);
      const events = tail.frames.filter(isEvent).map(message);
      expect(events.map((m) => (m.event.data as { patientId: string }).patientId).sort()).toEqual([
        'live-1',
        'live-2',
      ]);
      expect(message(seen[0]!)).toMatchObject({
        partition: north[0]!.partition,
        event: { tenantid: 'north' },
      });
    } finally {
      tail.close();
    }
  });

  it('starts at the beginning of a partition with from=earliest', async () => {
    const receipt = await publish('early-bird');
    const tail = await openSse(url(`?from=earliest&partition=${receipt.partition}`));
    try {
      const frame = await tail.until((f) => f.id === `${receipt.partition}:${receipt.offset}`);
      expect(message(frame).event.id).toBe(receipt.id);
      expect(tail.frames.filter(isEvent).every((f) => message(f).partition === receipt.partition)).toBe(true);
    } finally {
      tail.close();
    }
  });
}
