import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBlobStoreContract } from '../contract/blob-store-contract.ts';
import { createS3BlobStore, S3BlobStoreError } from './s3-blob-store.ts';
import { type S3TestServer, startS3TestServer } from './test-support/s3-test-server.ts';

const BUCKET = 'keel-blobs';

describeBlobStoreContract('S3-compatible (s3rver)', async () => {
  const server = await startS3TestServer([BUCKET]);
  const store = createS3BlobStore({
    bucket: BUCKET,
    endpoint: server.endpoint,
    region: 'eu-west-1',
    forcePathStyle: true,
    credentials: server.credentials,
  });
  return {
    store,
    cleanup: async () => {
      store.close();
      await server.stop();
    },
  };
});

describe('S3-compatible blob store: bad settings', () => {
  let server: S3TestServer;
  beforeAll(async () => {
    server = await startS3TestServer([BUCKET]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('names the bucket and its setting when the bucket does not exist, and creates nothing', async () => {
    const store = createS3BlobStore({
      bucket: 'no-such-bucket',
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: server.credentials,
      setting: 'KEEL_BLOB_S3_BUCKET',
    });
    const attempts = [
      () => store.put('imaging/scan-1', new Uint8Array([1])),
      () => store.get('scan-1'),
      () => store.list(),
    ];
    for (const attempt of attempts) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(S3BlobStoreError);
      expect((error as S3BlobStoreError).code).toBe('KEEL_BLOB_STORE_S3');
      expect((error as S3BlobStoreError).failure).toBe('no_such_bucket');
      expect((error as S3BlobStoreError).bucket).toBe('no-such-bucket');
      expect(String((error as Error).message)).toContain('S3 bucket "no-such-bucket" (KEEL_BLOB_S3_BUCKET)');
      expect(String((error as Error).message)).toContain('the bucket does not exist');
    }
    store.close();
    const good = createS3BlobStore({
      bucket: BUCKET,
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: server.credentials,
    });
    expect(await good.list()).toEqual([]);
    good.close();
  });

  it('says the credentials were refused for an access key the server does not know, and stores nothing', async () => {
    for (const credentials of [{ accessKeyId: 'UNKNOWN', secretAccessKey: 'S3RVER' }]) {
      const store = createS3BlobStore({
        bucket: BUCKET,
        endpoint: server.endpoint,
        forcePathStyle: true,
        credentials,
      });
      const error = await store.put('imaging/scan-1', new Uint8Array([1])).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(S3BlobStoreError);
      expect((error as S3BlobStoreError).failure).toBe('credentials_refused');
      expect((error as S3BlobStoreError).operation).toBe('put');
      expect((error as S3BlobStoreError).key).toBe('imaging/scan-1');
      expect(String((error as Error).message)).toMatch(
        /S3 bucket "keel-blobs": put imaging\/scan-1: the server refused the credentials/,
      );
      store.close();
    }
    const good = createS3BlobStore({
      bucket: BUCKET,
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: server.credentials,
    });
    expect(await good.list()).toEqual([]);
    good.close();
  });
});
