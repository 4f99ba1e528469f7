import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The part of s3rver's API the tests use (the package ships no types). */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
  resetOnClose: boolean;
  allowMismatchedSignatures: boolean;
}) => S3rverServer;

/** A real S3-compatible server for tests, in this process, on a free port, its objects in a temporary folder. */
export interface S3TestServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Credentials the server accepts (its built-in account). */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/** Starts s3rver with `buckets` created; it refuses access keys it does not know, like S3. */
export async function startS3TestServer(buckets: string[]): Promise<S3TestServer> {
  const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as S3rverClass;
  const directory = mkdtempSync(join(tmpdir(), 'keel-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
    resetOnClose: true,
    // s3rver drops the trailing slash of a bucket-level path (`/<bucket>/?list-type=2`) from the request it
    // signs, so AWS SDK v3's listings never match; an unknown access key is still refused (InvalidAccessKeyId).
    allowMismatchedSignatures: true,
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    stop: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
