import { createHash, randomUUID } from 'node:crypto';
import type { Middleware } from '../../bus/middleware/middleware.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { ValidationError } from '../../events/errors.ts';
import { type BlobStore, isBlobKey } from './blob-store.ts';

/** The media type of an event whose data is a claim-check reference. */
export const CLAIM_CHECK_CONTENT_TYPE = 'application/vnd.keel.claim-check+json';

/** What a claim-checked event carries instead of its data. */
export interface ClaimCheckReference {
  /** The blob's key in the store (`<topic>/<name>` when the encoder knows the event's topic). */
  blob: string;
  /** SHA-256 of the payload, hex. */
  sha256: string;
  /** Bytes of the payload. */
  size: number;
  /** The payload's own media type (`application/json`, `application/avro`...). */
  datacontenttype: string;
}

/** What the claim check needs. */
export interface ClaimCheckOptions {
  store: BlobStore;
  /** Payloads (data serialized) over this many bytes go to the store; default 512 KiB. */
  thresholdBytes?: number;
  /** The topic an event goes to: its blob is kept under it, to expire with the topic's retention. */
  topicOf?: (event: CloudEvent) => string | undefined;
}

const DEFAULT_THRESHOLD_BYTES = 512 * 1024;

/** The data of an event as the bytes a record would carry. */
function payloadOf(event: CloudEvent): Uint8Array {
  if (event.data instanceof Uint8Array) return event.data;
  return Buffer.from(JSON.stringify(event.data ?? null), 'utf8');
}

/**
 * A publisher's `encoder` step: an event whose data is larger than the threshold has its data written to the
 * blob store, and carries a reference with the payload's SHA-256 instead (`datacontenttype`
 * `application/vnd.keel.claim-check+json`). Smaller events pass unchanged.
 */
export function createClaimCheckEncoder(
  options: ClaimCheckOptions,
): (events: readonly CloudEvent[]) => Promise<CloudEvent[]> {
  const threshold = options.thresholdBytes ?? DEFAULT_THRESHOLD_BYTES;
  const checkOne = async (event: CloudEvent): Promise<CloudEvent> => {
    const payload = payloadOf(event);
    if (payload.byteLength <= threshold) return event;
    const sha256 = createHash('sha256').update(payload).digest('hex');
    const topic = options.topicOf?.(event);
    const name = `${sha256.slice(0, 32)}-${randomUUID()}`;
    const blob = topic === undefined ? name : `${topic}/${name}`;
    await options.store.put(blob, payload);
    const reference: ClaimCheckReference = {
      blob,
      sha256,
      size: payload.byteLength,
      datacontenttype:
        event.data instanceof Uint8Array
          ? (event.datacontenttype ?? 'application/octet-stream')
          : 'application/json',
    };
    return { ...event, datacontenttype: CLAIM_CHECK_CONTENT_TYPE, data: reference };
  };
  return (events) => Promise.all(events.map(checkOne));
}

/** Whether a record's data has the shape of a reference (it came from the wire: anything is possible). */
function isReference(value: unknown): value is ClaimCheckReference {
  const r = value as Partial<ClaimCheckReference> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.blob === 'string' &&
    isBlobKey(r.blob) &&
    typeof r.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(r.sha256) &&
    Number.isInteger(r.size) &&
    typeof r.datacontenttype === 'string'
  );
}

/** Why a claim-checked event could not be read back. */
function refused(event: CloudEvent, rule: string, message: string): ValidationError {
  return new ValidationError(
    `event ${event.id}: ${rule}: ${message}`,
    [{ path: 'data', rule, message }],
    event.type,
  );
}

/**
 * Router middleware: fetches the payload of a claim-checked event from the store, checks its SHA-256 and
 * hands the handler the event with its data back. A malformed reference (`claim_check_reference`), a missing blob
 * (`claim_check_missing`) or a payload whose digest differs (`claim_check_digest`) is bad input: not retried, it goes to the dead-letter queue.
 */
export function claimCheckData(store: BlobStore): Middleware {
  return (next) => async (event, context) => {
    if (event.datacontenttype !== CLAIM_CHECK_CONTENT_TYPE) return next(event, context);
    const reference = event.data as ClaimCheckReference;
    if (!isReference(reference)) {
      throw refused(
        event,
        'claim_check_reference',
        `data is not a claim-check reference ({ blob, sha256, size, datacontenttype }): ${JSON.stringify(event.data)?.slice(0, 200)}`,
      );
    }
    const payload = await store.get(reference.blob);
    if (payload === undefined) {
      throw refused(event, 'claim_check_missing', `blob ${reference.blob} is not in the store`);
    }
    const digest = createHash('sha256').update(payload).digest('hex');
    if (digest !== reference.sha256 || payload.byteLength !== reference.size) {
      throw refused(
        event,
        'claim_check_digest',
        `blob ${reference.blob} has SHA-256 ${digest} (${payload.byteLength} B), the record names ${reference.sha256} (${reference.size} B)`,
      );
    }
    const data =
      reference.datacontenttype === 'application/json'
        ? JSON.parse(Buffer.from(payload).toString('utf8'))
        : payload;
    return next({ ...event, datacontenttype: reference.datacontenttype, data }, context);
  };
}

/**
 * Removes the blobs stored longer ago than `retentionMs` (the topic's retention), only those kept under
 * `topic` when given; returns the keys removed.
 */
export async function expireBlobs(
  store: BlobStore,
  retentionMs: number,
  now = Date.now(),
  topic?: string,
): Promise<string[]> {
  const expired = (await store.list(topic)).filter((blob) => now - blob.storedAt > retentionMs);
  for (const blob of expired) await store.delete(blob.key);
  return expired.map((blob) => blob.key);
}
