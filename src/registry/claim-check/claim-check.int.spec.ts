import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDeadLetterQueue } from '../../bus/dead-letter/dead-letter-queue.ts';
import { EventTooLargeError } from '../../bus/errors.ts';
import { createPublisher } from '../../bus/publisher.ts';
import { createRouter } from '../../bus/router.ts';
import { createCatalog } from '../../events/catalog.ts';
import { defineEvent } from '../../events/define-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { fromRecord, toRecord } from '../../events/kafka-binding.ts';
import { kafkaTestHarness } from '../../transport/kafka/test-support/kafka-test-cluster.ts';
import { createFolderBlobStore } from './blob-store.ts';
import {
  CLAIM_CHECK_CONTENT_TYPE,
  claimCheckData,
  createClaimCheckEncoder,
  expireBlobs,
} from './claim-check.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const silent = pino({ level: 'silent' });

// A 20 MB event through the real cluster (brokers accept 1 MB records) by a claim check in a folder.
describe('claim check on Kafka', () => {
  const harness = kafkaTestHarness('claim-check');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keel-claim-check-'));
  });
  afterAll(async () => {
    await harness.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('carries a 20 MB event whole and verified, dead-letters missing and altered blobs, expires blobs', async () => {
    const transport = harness.open();
    const topic = harness.topic('imaging');
    const ScanAttached = defineEvent({
      type: `${topic}.scan-attached`,
      version: 1,
      schema: z.object({ patientId: z.string(), image: z.string() }),
      partitionKey: (data) => data.patientId,
    });
    const Imaging = defineTopic({ name: topic, partitions: 1, events: [ScanAttached] });
    const catalog = createCatalog({ topics: [Imaging] });
    await transport.ensureTopics([Imaging]);
    const image = (seed: number) => randomBytes(15 * 1024 * 1024 + seed).toString('base64'); // 20 MB of text
    const scans = [0, 1, 2].map((i) => ({ patientId: `p-${i}`, image: image(i) }));
    expect(scans[0]!.image.length).toBeGreaterThan(20_000_000);

    const plain = createPublisher({ transport, catalog, source: 'urn:keel:pacs', logger: silent });
    await expect(plain.publish(ScanAttached, scans[0]!)).rejects.toBeInstanceOf(EventTooLargeError);
    await plain.close();
    expect((await transport.offsets(topic))[0]?.latest).toBe(0n);

    const store = createFolderBlobStore(join(dir, 'blobs'));
    const publisher = createPublisher({
      transport,
      catalog,
      source: 'urn:keel:pacs',
      logger: silent,
      encoder: createClaimCheckEncoder({ store, thresholdBytes: 512 * 1024 }),
    });
    const receipts = await publisher.publishMany(ScanAttached, scans);
    await publisher.close();
    const records = await transport.read(topic, 0, receipts[0]!.offset, 3);
    const references = records.map((record) => fromRecord(record));
    expect(references.map((event) => event.datacontenttype)).toEqual(Array(3).fill(CLAIM_CHECK_CONTENT_TYPE));
    expect(records.every((record) => (record.value?.byteLength ?? 0) < 1024)).toBe(true);
    const blobOf = (i: number) => (references[i]!.data as { blob: string }).blob;
    // The second blob altered, the third gone.
    await store.put(blobOf(1), Buffer.from(JSON.stringify({ ...scans[1], image: 'altered' })));
    await store.delete(blobOf(2));
    // A reference that is not one (a producer's bug, or tampering on the wire).
    await transport.append([
      {
        topic,
        partition: 0,
        records: [
          toRecord({
            specversion: '1.0',
            id: 'evt-bad-reference',
            source: 'urn:keel:pacs',
            type: ScanAttached.type,
            datacontenttype: CLAIM_CHECK_CONTENT_TYPE,
            data: { blob: '../../etc/passwd' },
          }),
        ],
      },
    ]);

    const group = harness.group('imaging-readers');
    const handled: { patientId: string; digest: string; length: number }[] = [];
    const router = createRouter({
      transport,
      catalog,
      group,
      logger: silent,
      shutdownSignals: [],
      startFrom: 'earliest',
      middleware: [claimCheckData(store)],
    });
    router.on(ScanAttached, (event) => {
      if (event.data === undefined) throw new Error(`event ${event.id} reached the handler without data`);
      handled.push({
        patientId: event.data.patientId,
        digest: sha256(event.data.image),
        length: event.data.image.length,
      });
    });
    await router.start();
    const dlq = createDeadLetterQueue({ transport, group });
    const deadline = Date.now() + 60_000;
    while ((handled.length < 1 || (await dlq.list()).length < 3) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await router.close();

    expect(handled).toEqual([
      { patientId: 'p-0', digest: sha256(scans[0]!.image), length: scans[0]!.image.length },
    ]);
    const dead = (await dlq.list()).sort((a, b) => String(a.eventId).localeCompare(String(b.eventId)));
    expect(dead.map((entry) => [entry.eventId, entry.failure.errorCode, entry.failure.attempts])).toEqual(
      [references[1]!.id, references[2]!.id, 'evt-bad-reference']
        .map((id) => [id, 'KEEL_VALIDATION', 1])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const messages = dead.map((entry) => entry.failure.errorMessage).join('\n');
    expect(messages).toContain(`${references[1]!.id}: claim_check_digest: blob ${blobOf(1)} has SHA-256`);
    expect(messages).toContain(
      `${references[2]!.id}: claim_check_missing: blob ${blobOf(2)} is not in the store`,
    );

    // Retention of 1 s: the blobs kept are removed once it has passed, not before.
    expect(await expireBlobs(store, 60_000)).toEqual([]);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await expireBlobs(store, 1_000)).sort()).toEqual([blobOf(0), blobOf(1)].sort());
    expect(await store.list()).toEqual([]);
  }, 120_000);
});
