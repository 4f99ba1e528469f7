import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import type { Catalog } from '../../events/catalog.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import {
  cachedPointerSegments,
  isProtectedValue,
  pointerSegments,
  replacedAt,
  valueAt,
} from '../../events/sensitive-fields.ts';
import { checkSubject, createDataKeys, type DataKey, type DataKeys } from './data-keys.ts';
import { FieldEncryptionNotStartedError, MasterKeyError, PhiSubjectMissingError } from './errors.ts';
import type { KeyStore } from './key-store.ts';
import { encrypt, type MasterKey, unwrapDataKey, wrapDataKey } from './master-key.ts';
import { openWith, sealedFields } from './open-fields.ts';
import type { PhiReader } from './phi-reader.ts';
import { fieldAad, formatSealed } from './sealed-value.ts';

export type { PhiReader } from './phi-reader.ts';

/** What an erasure did. */
export interface ErasureReport {
  subject: string;
  /** Live data keys destroyed (0 when the subject had none, e.g. erased before). */
  keysDestroyed: number;
}

/** How to set up field encryption. */
export interface FieldEncryptionOptions {
  keyStore: KeyStore;
  masterKey: MasterKey;
  /** Event definitions: their `sensitive` pointers say which fields to seal. */
  catalog: Catalog;
  /** JSON pointer of the data field naming the subject (e.g. `/patientId`); default the event's `subject`. */
  subjectField?: string;
  /** Milliseconds a data key stays cached; an erasure reaches other processes' caches within it. Default 60,000. */
  keyCacheMs?: number;
}

/** Field encryption with crypto-shredding: seals sensitive fields per subject, opens or masks them for readers. */
export interface FieldEncryption {
  /** Opens the key store and checks the master key against it (MasterKeyError when it is not the store's). */
  start(): Promise<void>;
  /** Seals the sensitive fields of each event with its subject's data key (a publisher's `sealer`). */
  seal(events: readonly CloudEvent[]): Promise<CloudEvent[]>;
  /** The event as the reader may see it: sensitive fields plain, `[masked]`, or `[redacted]` once erased. */
  open<Data>(event: CloudEvent<Data>, reader: PhiReader): Promise<CloudEvent<Data>>;
  /** What `open` answers, without waiting, when every key it needs is cached; undefined otherwise. */
  openIfCached<Data>(event: CloudEvent<Data>, reader: PhiReader): CloudEvent<Data> | undefined;
  /** Destroys every data key of the subject: its sealed fields are unreadable for good, everywhere. */
  erase(subject: string): Promise<ErasureReport>;
  /** Starts a new version of the subject's data key; values sealed before still open. Answers the version. */
  rotateDataKey(subject: string): Promise<number>;
  /** Rewraps every data key with a new master key (one transaction); answers how many were rewrapped. */
  rotateMasterKey(next: MasterKey): Promise<number>;
  /** Closes the key store. */
  close(): Promise<void>;
}

const optionsSchema = z.object({
  keyStore: z.custom<KeyStore>(
    (value) => typeof value === 'object' && value !== null,
    'expected a key store',
  ),
  masterKey: z.custom<MasterKey>(
    (value) => Buffer.isBuffer((value as MasterKey | undefined)?.key),
    'expected a master key (loadMasterKey)',
  ),
  catalog: z.custom<Catalog>((value) => typeof value === 'object' && value !== null, 'expected a catalog'),
  subjectField: z
    .string()
    .refine(
      (pointer) => pointer.startsWith('/') && pointer.length > 1,
      'expected a JSON pointer such as /patientId',
    )
    .optional(),
  keyCacheMs: z.int().min(0).default(60_000),
});

/** Creates field encryption over a key store; call `start()` before use. */
export function createFieldEncryption(options: FieldEncryptionOptions): FieldEncryption {
  const settings = parseOptions(optionsSchema, options, 'field encryption');
  const { keyStore, catalog } = settings;
  const subjectSegments =
    settings.subjectField === undefined ? undefined : pointerSegments(settings.subjectField);
  let master = settings.masterKey;
  let keys: DataKeys | undefined;
  const started = (): DataKeys => {
    if (keys === undefined) throw new FieldEncryptionNotStartedError();
    return keys;
  };

  const subjectOf = (event: CloudEvent): string => {
    const subject = subjectSegments === undefined ? event.subject : valueAt(event.data, subjectSegments);
    if (typeof subject !== 'string' || subject === '') {
      throw new PhiSubjectMissingError(
        event.id,
        event.type,
        subjectSegments === undefined ? 'no subject attribute' : `no string at ${settings.subjectField}`,
      );
    }
    return subject;
  };

  // Every sensitive value of an event is sealed in one AES-GCM operation (setting up a cipher costs more
  // than encrypting a few fields): the first field carries the bytes, the others refer to them.
  const sealOne = async (event: CloudEvent): Promise<CloudEvent> => {
    const pointers = catalog.event(event.type)?.sensitive ?? [];
    if (pointers.length === 0) return event;
    const fields = pointers
      .map((pointer) => ({ pointer, segments: cachedPointerSegments(pointer) }))
      .map((field) => ({ ...field, value: valueAt(event.data, field.segments) }))
      .filter((field) => field.value !== undefined && !isProtectedValue(field.value));
    if (fields.length === 0) return event;
    const key = await started().forSealing(subjectOf(event));
    const plain = Buffer.from(JSON.stringify(fields.map((field) => [field.pointer, field.value])));
    const sealed = encrypt(key.key, plain, fieldAad(event.type, fields[0]!.pointer));
    let data: unknown = event.data;
    fields.forEach((field, index) => {
      data = replacedAt(data, field.segments, formatSealed(key.keyId, index === 0 ? sealed : undefined));
    });
    return { ...event, data };
  };

  const sensitiveOf = (event: CloudEvent) => catalog.event(event.type)?.sensitive ?? [];
  const withData = <Data>(event: CloudEvent<Data>, data: unknown): CloudEvent<Data> =>
    data === event.data ? event : ({ ...event, data } as CloudEvent<Data>);

  return {
    async start() {
      await keyStore.start();
      const claimed = await keyStore.claimMasterKey(master.id);
      if (claimed !== master.id) {
        throw new MasterKeyError(
          'mismatch',
          `the key store's data keys are wrapped by master key ${claimed}, but the master key given is ${master.id}; ` +
            'start with the right master key (a new one is adopted only by rotating to it)',
        );
      }
      keys = createDataKeys(keyStore, master, settings.keyCacheMs);
    },

    seal: (events) => Promise.all(events.map(sealOne)),

    async open(event, reader) {
      const fields = sealedFields(event, sensitiveOf(event));
      if (fields.length === 0) return event;
      const keys = new Map<string, DataKey>();
      if (reader.canReadPhi) {
        for (const { parts } of fields) {
          if (parts.bytes !== undefined) keys.set(parts.keyId, await started().forOpening(parts.keyId));
        }
      }
      return withData(event, openWith(event, fields, reader, (keyId) => keys.get(keyId))!.data);
    },

    openIfCached(event, reader) {
      const fields = sealedFields(event, sensitiveOf(event));
      if (fields.length === 0) return event;
      const opened = openWith(event, fields, reader, (keyId) => started().cachedForOpening(keyId));
      return opened === undefined ? undefined : withData(event, opened.data);
    },

    async erase(subject) {
      const keysDestroyed = await keyStore.erase(checkSubject(subject));
      started().forget(subject);
      return { subject, keysDestroyed };
    },

    rotateDataKey: async (subject) => (await started().rotate(subject)).version,

    async rotateMasterKey(next) {
      started();
      const rewrapped = await keyStore.rewrapAll(
        (row) => wrapDataKey(next, row.keyId, unwrapDataKey(master, row.keyId, row.wrapped!)),
        next.id,
      );
      master = next;
      keys!.useMaster(next);
      return rewrapped;
    },

    async close() {
      keys = undefined;
      await keyStore.close();
    },
  };
}
