import { describe, expect, it } from 'vitest';
import { createJobRegistry } from './job-registry.ts';

const waitForAbort = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });

describe('job registry', () => {
  it('runs a job in the background with progress and counts, and ends it as succeeded', async () => {
    const jobs = createJobRegistry();
    const started = jobs.start({
      kind: 'test.count',
      params: { n: 3 },
      actor: 'ada',
      async run(context) {
        for (let i = 1; i <= 3; i++) {
          context.count('seen', 1, `item-${i}`);
          context.progress(i, 3);
        }
      },
    });
    expect(started).toMatchObject({ kind: 'test.count', status: 'running', actor: 'ada', params: { n: 3 } });
    const ended = await jobs.settled(started.id);
    expect(ended).toMatchObject({
      status: 'succeeded',
      progress: { done: 3, total: 3 },
      counts: { seen: 3 },
      items: { seen: ['item-1', 'item-2', 'item-3'] },
      error: null,
    });
    expect(Date.parse(ended.endedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(ended.startedAt));
  });

  it('says why a job failed', async () => {
    const jobs = createJobRegistry();
    const { id } = jobs.start({
      kind: 'test.fail',
      async run() {
        throw new Error('the log is gone');
      },
    });
    expect(await jobs.settled(id)).toMatchObject({ status: 'failed', error: 'the log is gone' });
  });

  it('cancels a running job through its signal, records who, and refuses to cancel it twice', async () => {
    const jobs = createJobRegistry();
    const { id } = jobs.start({ kind: 'test.wait', run: ({ signal }) => waitForAbort(signal) });
    expect(jobs.cancel(id, 'grace')).toMatchObject({ cancelledBy: 'grace' });
    expect(await jobs.settled(id)).toMatchObject({ status: 'cancelled', cancelledBy: 'grace' });
    expect(() => jobs.cancel(id)).toThrow(expect.objectContaining({ code: 'KEEL_API_CONFLICT' }));
    expect(() => jobs.get('nope')).toThrow(expect.objectContaining({ code: 'KEEL_API_NOT_FOUND' }));
  });

  it('lists newest first, forgets the oldest ended jobs past its bound, and cancels running jobs on close', async () => {
    const jobs = createJobRegistry({ keepEnded: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { id } = jobs.start({ kind: 'test.quick', async run() {} });
      ids.push(id);
      await jobs.settled(id);
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(jobs.list().map((job) => job.id)).toEqual([ids[2], ids[1]]);
    const { id } = jobs.start({ kind: 'test.wait', run: ({ signal }) => waitForAbort(signal) });
    await jobs.close();
    expect(jobs.get(id).status).toBe('cancelled');
  });

  it('rejects options that break its schema, naming the key', () => {
    expect(() => createJobRegistry({ keepEnded: 0 })).toThrow(/job registry\.keepEnded/);
  });
});
