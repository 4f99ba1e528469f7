import { join } from 'node:path';
import { ConfigError } from './config-error.ts';
import { CONFIG_KEYS, type KeelConfig } from './config-schema.ts';
import { type ConfigSources, describeKey } from './load-config.ts';

/** Where the node keeps claim-checked payloads, with what it needs to open that store. */
export type BlobConnection =
  | {
      store: 'folder' /** `KEEL_BLOB_DIR`, default `<dataDir>/blobs`. */;
      folder: string;
    }
  | {
      store: 's3' /** `KEEL_BLOB_S3_BUCKET` and its endpoint, region and addressing. */;
      bucket: string;
      endpoint: string | undefined;
      region: string | undefined;
      forcePathStyle: boolean;
    };

/** The S3 settings that mean nothing without a bucket. */
const S3_DETAILS = ['blobS3Endpoint', 'blobS3Region', 'blobS3ForcePathStyle'] as const;

/**
 * The blob store the configuration describes: a bucket when `KEEL_BLOB_S3_BUCKET` is set, else the folder.
 * Throws ConfigError when S3 details are set without a bucket, or a bucket and a folder both (which one would
 * the operator mean?). Credentials are the AWS SDK's usual ones (`AWS_ACCESS_KEY_ID`...), never Keel settings.
 */
export function blobConnection(
  config: KeelConfig,
  sources?: ConfigSources,
  cwd = process.cwd(),
): BlobConnection {
  // A key never set is named by its environment variable, where operators set it.
  const name = (key: keyof ConfigSources & keyof typeof CONFIG_KEYS) =>
    sources === undefined || sources[key].kind === 'default'
      ? CONFIG_KEYS[key].env
      : describeKey(key, sources[key], cwd);
  if (config.blobS3Bucket === undefined) {
    const stray = S3_DETAILS.filter((key) =>
      key === 'blobS3ForcePathStyle' ? config[key] : config[key] !== undefined,
    );
    if (stray.length > 0) {
      throw new ConfigError([
        {
          key: name('blobS3Bucket'),
          message: `required when ${stray.map(name).join(', ')} is set: the bucket of the blobs`,
        },
      ]);
    }
    return { store: 'folder', folder: config.blobDir ?? join(config.dataDir, 'blobs') };
  }
  if (config.blobDir !== undefined) {
    throw new ConfigError([
      {
        key: name('blobDir'),
        message: `set together with ${name('blobS3Bucket')}: blobs go to one store, unset one of them`,
      },
    ]);
  }
  return {
    store: 's3',
    bucket: config.blobS3Bucket,
    endpoint: config.blobS3Endpoint,
    region: config.blobS3Region,
    forcePathStyle: config.blobS3ForcePathStyle,
  };
}
