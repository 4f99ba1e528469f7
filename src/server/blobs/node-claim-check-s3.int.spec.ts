import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { HandlerContext } from '../../bus/middleware/handler-context.ts';
import { configSchema } from '../../config/config-schema.ts';
import { createCatalog } from '../../events/catalog.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { defineEvent } from '../../events/define-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { CLAIM_CHECK_CONTENT_TYPE } from '../../registry/claim-check/claim-check.ts';
import { S3BlobStoreError } from '../../registry/claim-check/s3/s3-blob-store.ts';
import {
  type S3TestServer,
  startS3TestServer,
} from '../../registry/claim-check/s3/test-support/s3-test-server.ts';
import { openNodeClaimCheck } from './node-claim-check.ts';

const ScanAttached = defineEvent({
  type: 'healthcare.imaging.scan.attached',
  version: 1,
  schema: z.object({ patientId: z.string(), image: z.string() }),
});
const Imaging = defineTopic({ name: 'imaging', partitions: 1, retentionMs: 1_000, events: [ScanAttached] });
const catalog = createCatalog({ topics: [Imaging] });
const silent = pino({ level: 'silent' });
const scan: CloudEvent = {
  specversion: '1.0',
  id: 'evt-scan-1',
  source: 'urn:keel:pacs',
  type: ScanAttached.type,
  data: { patientId: 'p-1', image: 'x'.repeat(8192) },
};

// The node's claim check on an S3-compatible bucket (KEEL_BLOB_S3_*), credentials from the AWS variables.
describe('node claim check on an S3-compatible bucket', () => {
  let server: S3TestServer;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  beforeAll(async () => {
    server = await startS3TestServer(['keel-blobs']);
    process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
  });
  afterAll(async () => {
    for (const [name, value] of [
      ['AWS_ACCESS_KEY_ID', saved.id],
      ['AWS_SECRET_ACCESS_KEY', saved.secret],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await server?.stop();
  });
  const open = (bucket: string, registry = new Registry()) =>
    openNodeClaimCheck({
      config: configSchema.parse({
        claimCheckBytes: 1024,
        blobS3Bucket: bucket,
        blobS3Endpoint: server.endpoint,
        blobS3Region: 'eu-west-1',
        blobS3ForcePathStyle: true,
      }),
      catalog,
      registry,
      logger: silent,
    })!;

  it('keeps large data in the bucket under its topic, gives it back whole, and sweeps it with the retention', async () => {
    const registry = new Registry();
    const claimCheck = open('keel-blobs', registry);
    const [checked] = await claimCheck.encoder([scan]);
    expect(checked!.datacontenttype).toBe(CLAIM_CHECK_CONTENT_TYPE);
    const blob = (checked!.data as { blob: string }).blob;
    expect(blob.startsWith('imaging/')).toBe(true);
    expect((await claimCheck.store.list('imaging')).map((b) => b.key)).toEqual([blob]);
    let handled: CloudEvent | undefined;
    await claimCheck.middleware(async (event) => {
      handled = event;
    })(checked!, {} as HandlerContext);
    expect(handled?.data).toEqual(scan.data);

    expect(await claimCheck.sweep()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // past the 1 s retention, at S3's 1 s precision
    expect(await claimCheck.sweep()).toBe(1);
    expect(await claimCheck.store.list()).toEqual([]);
    expect((await registry.getSingleMetric('keel_claim_check_blobs_expired_total')?.get())?.values).toEqual([
      { labels: { topic: 'imaging' }, value: 1 },
    ]);
    claimCheck.close();
  });

  it('refuses to publish to a bucket that does not exist, naming it and KEEL_BLOB_S3_BUCKET; the sweep counts the failure', async () => {
    const registry = new Registry();
    const claimCheck = open('no-such-bucket', registry);
    const error = await claimCheck.encoder([scan]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3BlobStoreError);
    expect((error as Error).message).toMatch(
      /^S3 bucket "no-such-bucket" \(KEEL_BLOB_S3_BUCKET\): put imaging\/[0-9a-f-]+: the bucket does not exist/,
    );
    expect(await claimCheck.sweep()).toBe(0);
    expect((await registry.getSingleMetric('keel_claim_check_sweep_errors_total')?.get())?.values).toEqual([
      { labels: { topic: 'imaging' }, value: 1 },
    ]);
    claimCheck.close();
  });
});
