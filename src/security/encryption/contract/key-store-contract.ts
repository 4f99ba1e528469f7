import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyStore } from '../key-store.ts';

/** Opens a fresh, started key store for one test, and cleans it up. */
export interface KeyStoreHarness {
  store: KeyStore;
  /** A second store on the same database (another process's view). */
  reopen(): Promise<KeyStore>;
  /** The raw wrapped bytes of a key as the database holds them (null once erased). */
  rawWrapped(keyId: string): Promise<Buffer | null>;
  cleanup(): Promise<void>;
}

const key = (subject: string, fill = 1) => ({
  keyId: randomUUID(),
  subject,
  wrapped: Buffer.alloc(60, fill),
  masterKeyId: 'm1',
});

/** The contract every key store (SQLite, PostgreSQL) passes. */
export function describeKeyStoreContract(name: string, open: () => Promise<KeyStoreHarness>): void {
  describe(`key store contract: ${name}`, () => {
    let harness: KeyStoreHarness | undefined;
    const start = async () => {
      harness = await open();
      return harness;
    };
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    it('claims the first master key and keeps it against another', async () => {
      const { store } = await start();
      expect(await store.masterKeyId()).toBeUndefined();
      expect(await store.claimMasterKey('m1')).toBe('m1');
      expect(await store.claimMasterKey('m2')).toBe('m1');
      expect(await store.masterKeyId()).toBe('m1');
    });

    it('numbers a subject’s keys 1, 2, ... and answers the newest as current', async () => {
      const { store } = await start();
      const first = await store.addKey(key('patient-1'), { onlyIfNone: true });
      expect(first.version).toBe(1);
      expect(await store.addKey(key('patient-1'), { onlyIfNone: true })).toEqual(first);
      const second = await store.addKey(key('patient-1', 2), { onlyIfNone: false });
      expect(second.version).toBe(2);
      expect((await store.currentKey('patient-1'))?.keyId).toBe(second.keyId);
      expect((await store.keyById(first.keyId))?.wrapped).toEqual(Buffer.alloc(60, 1));
      expect(await store.currentKey('patient-2')).toBeUndefined();
    });

    it('agrees on one first key when two writers race for a subject', async () => {
      const { store, reopen } = await start();
      const other = await reopen();
      const made = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? other : store).addKey(key('racer'), { onlyIfNone: true }),
        ),
      );
      expect(new Set(made.map((row) => row.keyId)).size).toBe(1);
      await other.close();
    });

    it('erases every key of a subject, overwriting the wrapped bytes, and leaves others alone', async () => {
      const { store, rawWrapped } = await start();
      const a1 = await store.addKey(key('a'), { onlyIfNone: true });
      const a2 = await store.addKey(key('a'), { onlyIfNone: false });
      const b = await store.addKey(key('b'), { onlyIfNone: true });
      expect(await store.erase('a')).toBe(2);
      expect(await store.erase('a')).toBe(0);
      for (const erased of [a1, a2]) {
        const row = await store.keyById(erased.keyId);
        expect(row?.wrapped).toBeUndefined();
        expect(row?.erasedAt).toBeInstanceOf(Date);
        expect(await rawWrapped(erased.keyId)).toBeNull();
      }
      expect(await store.currentKey('a')).toBeUndefined();
      expect((await store.keyById(b.keyId))?.wrapped).toEqual(Buffer.alloc(60, 1));
      // New data after an erasure gets a new key, numbered after the erased ones.
      expect((await store.addKey(key('a'), { onlyIfNone: true })).version).toBe(3);
    });

    it('rewraps every live key and moves the master key in one go', async () => {
      const { store } = await start();
      await store.claimMasterKey('m1');
      const live = await store.addKey(key('a'), { onlyIfNone: true });
      const gone = await store.addKey(key('b'), { onlyIfNone: true });
      await store.erase('b');
      expect(await store.rewrapAll(() => Buffer.alloc(60, 9), 'm2')).toBe(1);
      expect(await store.masterKeyId()).toBe('m2');
      const row = await store.keyById(live.keyId);
      expect(row?.wrapped).toEqual(Buffer.alloc(60, 9));
      expect(row?.masterKeyId).toBe('m2');
      expect((await store.keyById(gone.keyId))?.wrapped).toBeUndefined();
    });

    it('rolls a failed rewrap back whole', async () => {
      const { store } = await start();
      await store.claimMasterKey('m1');
      const a = await store.addKey(key('a'), { onlyIfNone: true });
      await store.addKey(key('b'), { onlyIfNone: true });
      let calls = 0;
      await expect(
        store.rewrapAll(() => {
          if (++calls === 2) throw new Error('disk on fire');
          return Buffer.alloc(60, 7);
        }, 'm2'),
      ).rejects.toThrow('disk on fire');
      expect(await store.masterKeyId()).toBe('m1');
      expect((await store.keyById(a.keyId))?.wrapped).toEqual(Buffer.alloc(60, 1));
    });
  });
}
