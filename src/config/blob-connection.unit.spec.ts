import { describe, expect, it } from 'vitest';
import { blobConnection } from './blob-connection.ts';
import { ConfigError } from './config-error.ts';
import { loadConfig } from './load-config.ts';

const cwd = '/srv/keel';
const connect = async (env: Record<string, string>) => {
  const { config, sources } = await loadConfig({ cwd, env });
  return blobConnection(config, sources, cwd);
};

describe('blob connection', () => {
  it('is the folder by default, and the bucket with its endpoint, region and addressing when one is set', async () => {
    expect(await connect({})).toEqual({ store: 'folder', folder: '/srv/keel/.keel/blobs' });
    expect(await connect({ KEEL_BLOB_DIR: 'var/blobs' })).toEqual({
      store: 'folder',
      folder: '/srv/keel/var/blobs',
    });
    expect(
      await connect({
        KEEL_BLOB_S3_BUCKET: 'keel-blobs',
        KEEL_BLOB_S3_ENDPOINT: 'http://127.0.0.1:9000',
        KEEL_BLOB_S3_REGION: 'eu-west-1',
        KEEL_BLOB_S3_FORCE_PATH_STYLE: 'true',
      }),
    ).toEqual({
      store: 's3',
      bucket: 'keel-blobs',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
    });
  });

  it('names KEEL_BLOB_S3_BUCKET when S3 details come without a bucket', async () => {
    const error = await connect({
      KEEL_BLOB_S3_ENDPOINT: 'http://127.0.0.1:9000',
      KEEL_BLOB_S3_REGION: 'eu-west-1',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'KEEL_BLOB_S3_BUCKET: required when KEEL_BLOB_S3_ENDPOINT, KEEL_BLOB_S3_REGION is set: the bucket of the blobs',
    );
  });

  it('refuses a bucket and a folder both', async () => {
    await expect(connect({ KEEL_BLOB_S3_BUCKET: 'keel-blobs', KEEL_BLOB_DIR: 'var/blobs' })).rejects.toThrow(
      'KEEL_BLOB_DIR: set together with KEEL_BLOB_S3_BUCKET: blobs go to one store, unset one of them',
    );
  });

  it('refuses a bucket name, endpoint or region that cannot be one, naming the setting', async () => {
    for (const [name, value] of [
      ['KEEL_BLOB_S3_BUCKET', 'Keel_Blobs'],
      ['KEEL_BLOB_S3_ENDPOINT', 'minio:9000'],
      ['KEEL_BLOB_S3_REGION', 'EU West'],
    ]) {
      await expect(
        loadConfig({ cwd, env: { KEEL_BLOB_S3_BUCKET: 'keel-blobs', [name!]: value! } }),
        name,
      ).rejects.toThrow(name);
    }
  });
});
