import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../../bus/middleware/handler-context.ts';
import type { CloudEvent } from '../../../events/cloud-event.ts';
import { ValidationError } from '../../../events/errors.ts';
import type { BlobStore } from '../blob-store.ts';
import { claimCheckData, createClaimCheckEncoder, expireBlobs } from '../claim-check.ts';

/** A store under test, empty when opened; `cleanup` removes what it holds. */
export interface BlobStoreUnderTest {
  store: BlobStore;
  cleanup(): Promise<void>;
}

// S3 keeps LastModified to the second: storedAt may be up to a second before the put began.
const CLOCK_SLACK_MS = 1_500;
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
const keysOf = async (listing: Promise<{ key: string }[]>) => (await listing).map((blob) => blob.key).sort();

/** A claim-checked event's reference, made by the encoder through `store`. */
async function checkedEvent(store: BlobStore, data: unknown): Promise<CloudEvent> {
  const encode = createClaimCheckEncoder({ store, thresholdBytes: 16, topicOf: () => 'imaging' });
  const [event] = await encode([
    {
      specversion: '1.0',
      id: `evt-${Math.random()}`,
      source: 'urn:test',
      type: 'imaging.scan-attached',
      data,
    },
  ]);
  return event!;
}

/** Runs the claim check's Router middleware on one event; resolves with what the handler was given. */
async function readBack(store: BlobStore, event: CloudEvent): Promise<CloudEvent> {
  let handled: CloudEvent | undefined;
  await claimCheckData(store)(async (received) => {
    handled = received;
  })(event, {} as HandlerContext);
  return handled!;
}

/** The behaviour every blob store must have: the folder store and the S3-compatible one alike. */
export function describeBlobStoreContract(name: string, open: () => Promise<BlobStoreUnderTest>): void {
  describe(`blob store contract: ${name}`, () => {
    let opened: BlobStoreUnderTest;
    let store: BlobStore;
    beforeAll(async () => {
      opened = await open();
      store = opened.store;
    });
    afterAll(async () => {
      await opened?.cleanup();
    });

    it('gives back the bytes put, overwrites, and undefined for a key never put', async () => {
      await store.put('round-trip', bytes('first'));
      expect(Buffer.from((await store.get('round-trip'))!).toString()).toBe('first');
      await store.put('round-trip', bytes('second'));
      expect(Buffer.from((await store.get('round-trip'))!).toString()).toBe('second');
      const binary = new Uint8Array(256 * 1024).map((_, i) => (i * 31) % 256);
      await store.put('patients.v1/binary', binary);
      expect(Buffer.from((await store.get('patients.v1/binary'))!).equals(Buffer.from(binary))).toBe(true);
      await store.put('empty', new Uint8Array());
      expect((await store.get('empty'))?.byteLength).toBe(0);
      expect(await store.get('never-put')).toBeUndefined();
      expect(await store.get('imaging/never-put')).toBeUndefined();
      for (const key of ['round-trip', 'patients.v1/binary', 'empty']) await store.delete(key);
    });

    it('lists every key, or those of one topic, with when each was stored', async () => {
      const before = Date.now();
      for (const key of ['top-1', 'imaging/scan-1', 'imaging/scan-2', 'imaging.audit/scan-3'])
        await store.put(key, bytes(key));
      const after = Date.now();
      expect(await keysOf(store.list())).toEqual([
        'imaging.audit/scan-3',
        'imaging/scan-1',
        'imaging/scan-2',
        'top-1',
      ]);
      expect(await keysOf(store.list('imaging'))).toEqual(['imaging/scan-1', 'imaging/scan-2']);
      expect(await keysOf(store.list('imaging.audit'))).toEqual(['imaging.audit/scan-3']);
      expect(await store.list('no-such-topic')).toEqual([]);
      for (const blob of await store.list()) {
        expect(blob.storedAt).toBeGreaterThanOrEqual(before - CLOCK_SLACK_MS);
        expect(blob.storedAt).toBeLessThanOrEqual(after + CLOCK_SLACK_MS);
      }
    });

    it('deletes a key, and deleting one already gone changes nothing', async () => {
      await store.delete('imaging/scan-1');
      await store.delete('imaging/scan-1');
      await store.delete('never-put');
      expect(await store.get('imaging/scan-1')).toBeUndefined();
      expect(await keysOf(store.list('imaging'))).toEqual(['imaging/scan-2']);
    });

    it('expires blobs older than the retention, one topic or all, and none younger', async () => {
      const now = Date.now();
      expect(await expireBlobs(store, 60_000, now)).toEqual([]);
      expect(await expireBlobs(store, 60_000, now + 120_000, 'imaging')).toEqual(['imaging/scan-2']);
      expect(await keysOf(store.list())).toEqual(['imaging.audit/scan-3', 'top-1']);
      expect((await expireBlobs(store, 60_000, now + 120_000)).sort()).toEqual([
        'imaging.audit/scan-3',
        'top-1',
      ]);
      expect(await store.list()).toEqual([]);
    });

    it('refuses keys and topics that are not names, and stores nothing', async () => {
      for (const key of [
        '../escape',
        'imaging/../escape',
        'UPPER',
        '',
        'a/b/c',
        `${'x'.repeat(129)}`,
        '../x/y',
      ]) {
        await expect(store.put(key, bytes('no')), key).rejects.toBeInstanceOf(TypeError);
        await expect(store.get(key), key).rejects.toBeInstanceOf(TypeError);
        await expect(store.delete(key), key).rejects.toBeInstanceOf(TypeError);
      }
      for (const topic of ['..', 'a/b', 'bad topic']) {
        await expect(store.list(topic), topic).rejects.toBeInstanceOf(TypeError);
      }
      expect(await store.list()).toEqual([]);
    });

    it('carries claim-checked data back whole, and the claim check refuses an altered or missing blob', async () => {
      const data = { patientId: 'p-1', image: 'x'.repeat(4096) };
      const event = await checkedEvent(store, data);
      expect((await readBack(store, event)).data).toEqual(data);
      const blob = (event.data as { blob: string }).blob;
      expect(blob.startsWith('imaging/')).toBe(true);
      await store.put(blob, bytes(JSON.stringify({ ...data, image: 'altered' })));
      const altered = readBack(store, event);
      await expect(altered).rejects.toBeInstanceOf(ValidationError);
      await expect(altered).rejects.toThrow(`claim_check_digest: blob ${blob} has SHA-256`);
      const sameSize = bytes(JSON.stringify({ ...data, image: 'y'.repeat(4096) }));
      await store.put(blob, sameSize);
      const digest = createHash('sha256').update(sameSize).digest('hex');
      await expect(readBack(store, event)).rejects.toThrow(`has SHA-256 ${digest}`);
      await store.delete(blob);
      await expect(readBack(store, event)).rejects.toThrow(
        `claim_check_missing: blob ${blob} is not in the store`,
      );
    });
  });
}
