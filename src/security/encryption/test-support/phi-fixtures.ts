import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { type Catalog, createCatalog } from '../../../events/catalog.ts';
import { defineEvent } from '../../../events/define-event.ts';
import { defineTopic } from '../../../events/define-topic.ts';
import { createFieldEncryption, type FieldEncryption } from '../field-encryption.ts';
import { type MasterKey, masterKeyFrom } from '../master-key.ts';
import { createSqliteKeyStore } from '../sqlite/sqlite-key-store.ts';

/** A patient admission with protected health information in three fields, one of them nested. */
export const PatientAdmitted = defineEvent({
  type: 'test.phi.patient.admitted',
  version: 1,
  schema: z.object({
    patientId: z.string(),
    name: z.string().min(1),
    dateOfBirth: z.iso.date(),
    ward: z.string(),
    address: z.object({ line1: z.string(), city: z.string() }),
  }),
  sensitive: ['/name', '/dateOfBirth', '/address/line1'],
  partitionKey: (data) => data.patientId,
});

/** Data of an admission for patient `n`: its PHI is recognisable in raw bytes (`Name-<n>`, `Street-<n>`). */
export const admission = (patientId: string) => ({
  patientId,
  name: `Name-${patientId}`,
  dateOfBirth: '1980-02-29',
  ward: 'cardiology',
  address: { line1: `Street-${patientId}`, city: 'Lyon' },
});

/** A catalog routing admissions to a topic named `topic`. */
export function phiCatalog(topic: string, partitions = 3): Catalog {
  return createCatalog({
    topics: [defineTopic({ name: topic, partitions, replication: 1, events: [PatientAdmitted] })],
  });
}

/** A random master key. */
export const randomMasterKey = (): MasterKey => masterKeyFrom(randomBytes(32));

/** Field encryption on a SQLite key store in a fresh folder, started; `close` removes the folder. */
export async function sqliteEncryption(
  catalog: Catalog,
  master: MasterKey = randomMasterKey(),
): Promise<{ encryption: FieldEncryption; keyPath: string; master: MasterKey; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-phi-'));
  const keyPath = join(dir, 'keys.db');
  const encryption = createFieldEncryption({
    keyStore: createSqliteKeyStore({ path: keyPath }),
    masterKey: master,
    catalog,
  });
  await encryption.start();
  return {
    encryption,
    keyPath,
    master,
    async close() {
      await encryption.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
