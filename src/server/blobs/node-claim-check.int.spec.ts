import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDeadLetterQueue } from '../../bus/dead-letter/dead-letter-queue.ts';
import { createRouter } from '../../bus/router.ts';
import { configSchema, type KeelConfigInput } from '../../config/config-schema.ts';
import { createCatalog } from '../../events/catalog.ts';
import { defineEvent } from '../../events/define-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import { CLAIM_CHECK_CONTENT_TYPE } from '../../registry/claim-check/claim-check.ts';
import { createNode, type KeelNode } from '../node.ts';

const ScanAttached = defineEvent({
  type: 'healthcare.imaging.scan.attached',
  version: 1,
  schema: z.object({ patientId: z.string(), image: z.string() }),
});
// A retention of 1 s, so the sweep has something to remove within the test.
const Imaging = defineTopic({ name: 'imaging', partitions: 1, retentionMs: 1_000, events: [ScanAttached] });
const Notes = defineTopic({
  name: 'notes',
  partitions: 1,
  events: [
    defineEvent({ type: 'healthcare.note.added', version: 1, schema: z.object({ text: z.string() }) }),
  ],
});
const catalog = createCatalog({ topics: [Imaging, Notes] });
const silent = pino({ level: 'silent' });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-node-claim-check-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const nodeWith = (config: KeelConfigInput, logger = silent): KeelNode =>
  createNode({
    config: configSchema.parse({ port: 0, sync: 'normal', ...config, dataDir: join(dir, 'data') }),
    catalog,
    logger,
  });

/** Publishes one event over the node's HTTP API (structured CloudEvents); the receipt. */
async function publish(url: string, type: string, id: string, data: unknown) {
  const response = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', id, source: 'urn:keel:pacs', type, data }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const waitFor = async (what: string, done: () => Promise<boolean> | boolean, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('the node with a claim check (KEEL_CLAIM_CHECK_BYTES)', () => {
  it('publishes data over the threshold through the blob folder, under its topic; the record carries the reference', async () => {
    await using node = nodeWith({ claimCheckBytes: 64 * 1024, blobSweepIntervalMs: 60_000 });
    const url = await node.start();
    // 2 MB: twice what the publisher accepts in a record (KEEL_MAX_EVENT_BYTES, 1 MiB).
    const image = 'x'.repeat(2 * 1024 * 1024);
    const small = await publish(url, 'healthcare.note.added', 'n-1', { text: 'small' });
    const large = await publish(url, ScanAttached.type, 's-1', { patientId: 'p-1', image });
    expect([small.status, large.status]).toEqual([201, 201]);

    const [note] = await node.transport.read('notes', 0, 0n, 10);
    expect(fromRecord(note!).data).toEqual({ text: 'small' });
    const [record] = await node.transport.read('imaging', 0, 0n, 10);
    expect(record!.value!.byteLength).toBeLessThan(1024);
    const event = fromRecord(record!);
    const payload = JSON.stringify({ patientId: 'p-1', image });
    expect(event.datacontenttype).toBe(CLAIM_CHECK_CONTENT_TYPE);
    expect(event.data).toMatchObject({
      sha256: sha256(payload),
      size: payload.length,
      datacontenttype: 'application/json',
    });
    const blob = (event.data as { blob: string }).blob;
    expect(blob).toMatch(/^imaging\/[0-9a-f]{32}-/);
    expect(existsSync(join(dir, 'data', 'blobs', ...blob.split('/')))).toBe(true);
    expect(Buffer.from((await node.claimCheck!.store.get(blob))!).toString()).toBe(payload);
  });

  it("sweeps blobs past their topic's retention (logged, counted), and a consumer of the record then dead-letters it with claim_check_missing", async () => {
    const blobDir = join(dir, 'blobs');
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    await using node = nodeWith({ claimCheckBytes: 1024, blobDir, blobSweepIntervalMs: 200 }, logger);
    const url = await node.start();
    const image = 'y'.repeat(8 * 1024);
    expect((await publish(url, ScanAttached.type, 's-2', { patientId: 'p-2', image })).status).toBe(201);
    const [record] = await node.transport.read('imaging', 0, 0n, 1);
    const blob = (fromRecord(record!).data as { blob: string }).blob;
    expect((await node.claimCheck!.store.list('imaging')).map((b) => b.key)).toEqual([blob]);

    // The topic keeps records 1 s: the sweep every 200 ms removes the blob soon after.
    await waitFor(
      'the blob to expire',
      async () => (await node.claimCheck!.store.list('imaging')).length === 0,
    );
    expect(existsSync(join(blobDir, ...blob.split('/')))).toBe(false);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('keel_claim_check_blobs_expired_total{topic="imaging"} 1');
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'claim check: expired blobs removed', topic: 'imaging', removed: 1 }),
    );

    // The record is still in the log (retention runs on its own schedule): reading it now fails clearly.
    const handled: string[] = [];
    const router = createRouter({
      transport: node.transport,
      catalog,
      group: 'imaging-readers',
      logger: silent,
      shutdownSignals: [],
      startFrom: 'earliest',
      middleware: [node.claimCheck!.middleware],
    });
    router.on(ScanAttached, (event) => {
      handled.push(event.id);
    });
    await router.start();
    const dlq = createDeadLetterQueue({ transport: node.transport, group: 'imaging-readers' });
    try {
      await waitFor('the dead letter', async () => (await dlq.list()).length === 1);
    } finally {
      await router.close();
    }
    expect(handled).toEqual([]);
    const [dead] = await dlq.list();
    expect(dead?.eventId).toBe('s-2');
    expect(dead?.failure.errorCode).toBe('KEEL_VALIDATION');
    expect(dead?.failure.attempts).toBe(1);
    expect(dead?.failure.errorMessage).toContain(
      `s-2: claim_check_missing: blob ${blob} is not in the store`,
    );
  });

  it('keeps blobs of topics without a retention, and turns the claim check off when unset', async () => {
    await using node = nodeWith({ claimCheckBytes: 16, blobSweepIntervalMs: 100 });
    const url = await node.start();
    expect(
      (await publish(url, 'healthcare.note.added', 'n-2', { text: 'a note longer than sixteen bytes' }))
        .status,
    ).toBe(201);
    await new Promise((r) => setTimeout(r, 1_300));
    expect(await node.claimCheck!.sweep()).toBe(0);
    expect(await node.claimCheck!.store.list('notes')).toHaveLength(1);

    await using plain = createNode({
      config: configSchema.parse({ port: 0, sync: 'normal', dataDir: join(dir, 'plain') }),
      catalog,
      logger: silent,
    });
    expect(plain.claimCheck).toBeUndefined();
  });
});
