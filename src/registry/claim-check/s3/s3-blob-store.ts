import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { KeelError } from '../../../errors/keel-error.ts';
import { type BlobStore, isBlobKey, isBlobTopic } from '../blob-store.ts';

/** Where an S3-compatible blob store is and how to reach it. */
export interface S3BlobStoreOptions {
  /** The bucket the blobs go to; it must exist (the store never creates it). */
  bucket: string;
  /** The service URL for an S3-compatible server (MinIO, Ceph, R2...); unset: AWS S3 in `region`. */
  endpoint?: string;
  /** Region to sign requests for; default `us-east-1` (S3-compatible servers mostly ignore it). */
  region?: string;
  /** Address the bucket in the path (`<endpoint>/<bucket>/<key>`) rather than a subdomain; most S3-compatible servers need it. */
  forcePathStyle?: boolean;
  /** Access key; unset: the AWS SDK's default chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, profiles, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Where the bucket was named (e.g. `KEEL_BLOB_S3_BUCKET`), so an error says which setting to fix. */
  setting?: string;
}

/** What went wrong talking to the S3-compatible store. */
export type S3BlobStoreFailure = 'no_such_bucket' | 'credentials_refused' | 'request_failed';

/** An S3-compatible blob store refused or failed a request: which bucket, which call, which key, and why. */
export class S3BlobStoreError extends KeelError {
  readonly code = 'KEEL_BLOB_STORE_S3';
  /** The bucket asked. */
  readonly bucket: string;
  /** The store call (`put`, `get`, `list`, `delete`). */
  readonly operation: string;
  /** The blob key, or the listed topic, when there was one. */
  readonly key: string | undefined;
  /** Why, in short. */
  readonly failure: S3BlobStoreFailure;

  constructor(
    fields: {
      bucket: string;
      operation: string;
      key?: string;
      failure: S3BlobStoreFailure;
      setting?: string;
    },
    cause: unknown,
  ) {
    const where = `S3 bucket "${fields.bucket}"${fields.setting === undefined ? '' : ` (${fields.setting})`}`;
    const what = `${fields.operation}${fields.key === undefined ? '' : ` ${fields.key}`}`;
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    const why =
      fields.failure === 'no_such_bucket'
        ? 'the bucket does not exist; create it or fix the bucket name'
        : fields.failure === 'credentials_refused'
          ? 'the server refused the credentials (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)'
          : 'the request failed';
    super(`${where}: ${what}: ${why} (${detail})`, { cause });
    this.bucket = fields.bucket;
    this.operation = fields.operation;
    this.key = fields.key;
    this.failure = fields.failure;
  }
}

const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'CredentialsProviderError',
]);

/** Which kind of failure an SDK error is. */
function failureOf(error: unknown): S3BlobStoreFailure {
  const name = (error as { name?: string } | null)?.name ?? '';
  if (name === 'NoSuchBucket') return 'no_such_bucket';
  if (CREDENTIAL_ERRORS.has(name)) return 'credentials_refused';
  if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 403)
    return 'credentials_refused';
  return 'request_failed';
}

/** Refuses a key that is not a blob key before anything is sent. */
function checkedKey(key: string): string {
  if (!isBlobKey(key)) {
    throw new TypeError(`blob key "${key}" must be 1-128 of a-z, 0-9 and '-', optionally after "<topic>/"`);
  }
  return key;
}

/**
 * A blob store in an S3-compatible bucket: one object per key, the key as the object name (`<topic>/<name>`),
 * the object's `LastModified` as when it was stored (S3 keeps it to the second).
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore & { close(): void } {
  const { bucket } = options;
  const client = new S3Client({
    region: options.region ?? 'us-east-1',
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials: options.credentials,
  });
  const call = async <T>(operation: string, key: string | undefined, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw new S3BlobStoreError(
        { bucket, operation, key, failure: failureOf(error), setting: options.setting },
        error,
      );
    }
  };
  const listPrefix = async (prefix: string, direct: boolean) => {
    const blobs: { key: string; storedAt: number }[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? '';
        // Objects that are not blob keys (other tools' files in a shared bucket) are not ours to list or expire.
        if (!isBlobKey(key) || (direct && key.includes('/', prefix.length))) continue;
        blobs.push({ key, storedAt: object.LastModified?.getTime() ?? 0 });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return blobs;
  };
  return {
    put: async (key, bytes) =>
      call('put', checkedKey(key), async () => {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: bytes,
            ContentType: 'application/octet-stream',
          }),
        );
      }),
    get: async (key) =>
      call('get', checkedKey(key), async () => {
        try {
          const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          return object.Body === undefined ? new Uint8Array() : await object.Body.transformToByteArray();
        } catch (error) {
          if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
          throw error;
        }
      }),
    list: async (topic) => {
      if (topic !== undefined && !isBlobTopic(topic))
        throw new TypeError(`blob topic "${topic}" is not a topic name`);
      return call('list', topic, () =>
        topic === undefined ? listPrefix('', false) : listPrefix(`${topic}/`, true),
      );
    },
    delete: async (key) =>
      call('delete', checkedKey(key), async () => {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      }),
    close: () => client.destroy(),
  };
}
