import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createEvent } from '../../events/create-event.ts';
import { MASKED_VALUE, REDACTED_VALUE, SEALED_PREFIX } from '../../events/sensitive-fields.ts';
import { MasterKeyError, PhiSubjectMissingError, SealedValueError } from './errors.ts';
import { createFieldEncryption } from './field-encryption.ts';
import { createSqliteKeyStore } from './sqlite/sqlite-key-store.ts';
import {
  admission,
  PatientAdmitted,
  phiCatalog,
  randomMasterKey,
  sqliteEncryption,
} from './test-support/phi-fixtures.ts';

const catalog = phiCatalog('phi.unit');
const admitted = (patientId: string) =>
  createEvent(PatientAdmitted, admission(patientId), { source: 'urn:test', subject: patientId });
const plain = { canReadPhi: true };
type SealedAdmission = Record<string, string> & { address: Record<string, string> };
const masked = { canReadPhi: false };

describe('field encryption', () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  const open = async (...args: Parameters<typeof sqliteEncryption>) => {
    const made = await sqliteEncryption(...args);
    opened.push(made);
    return made;
  };
  afterEach(async () => {
    for (const item of opened.splice(0)) await item.close();
  });

  it('seals only the sensitive fields, and opens them plain, masked or not at all', async () => {
    const { encryption } = await open(catalog);
    const event = admitted('patient-1');
    const [sealed] = await encryption.seal([event]);
    const data = sealed!.data as SealedAdmission;
    expect(data.name).toMatch(new RegExp(`^${SEALED_PREFIX}`));
    expect(data.dateOfBirth).toMatch(new RegExp(`^${SEALED_PREFIX}`));
    expect(data.address.line1).toMatch(new RegExp(`^${SEALED_PREFIX}`));
    expect(data.address.city).toBe('Lyon');
    expect(data.ward).toBe('cardiology');
    expect(JSON.stringify(sealed)).not.toContain('Name-patient-1');
    expect(event.data!.name).toBe('Name-patient-1'); // the caller's event is not changed
    expect((await encryption.open(sealed!, plain)).data).toEqual(event.data);
    expect((await encryption.open(sealed!, masked)).data).toMatchObject({
      name: MASKED_VALUE,
      dateOfBirth: MASKED_VALUE,
      address: { line1: MASKED_VALUE, city: 'Lyon' },
    });
  });

  it('uses one data key per subject: erasing one subject leaves the other readable', async () => {
    const { encryption } = await open(catalog);
    const [a, b] = await encryption.seal([admitted('patient-a'), admitted('patient-b')]);
    const keyOf = (event: typeof a) => String((event!.data as { name: string }).name).split(':')[3];
    expect(keyOf(a)).not.toBe(keyOf(b));
    expect(await encryption.erase('patient-a')).toEqual({ subject: 'patient-a', keysDestroyed: 1 });
    expect((await encryption.open(a!, plain)).data).toMatchObject({
      name: REDACTED_VALUE,
      ward: 'cardiology',
    });
    expect((await encryption.open(b!, plain)).data).toMatchObject({ name: 'Name-patient-b' });
    // New data about an erased subject gets a new key; the old events stay redacted.
    const [again] = await encryption.seal([admitted('patient-a')]);
    expect((await encryption.open(again!, plain)).data).toMatchObject({ name: 'Name-patient-a' });
    expect((await encryption.open(a!, plain)).data).toMatchObject({ name: REDACTED_VALUE });
  });

  it('reaches an erasure made by another process once its key cache expires', async () => {
    const { encryption, keyPath, master } = await open(catalog);
    const other = createFieldEncryption({
      keyStore: createSqliteKeyStore({ path: keyPath }),
      masterKey: master,
      catalog,
      keyCacheMs: 0,
    });
    await other.start();
    const [sealed] = await encryption.seal([admitted('patient-x')]);
    expect((await other.open(sealed!, plain)).data).toMatchObject({ name: 'Name-patient-x' });
    await encryption.erase('patient-x');
    expect((await other.open(sealed!, plain)).data).toMatchObject({ name: REDACTED_VALUE });
    await other.close();
  });

  it('binds a sealed value to its event type and field: moved elsewhere it does not open', async () => {
    const { encryption } = await open(catalog);
    const [sealed] = await encryption.seal([admitted('patient-1')]);
    const data = sealed!.data as SealedAdmission;
    const swapped = { ...sealed!, data: { ...data, name: data.address.line1 } };
    await expect(encryption.open(swapped, plain)).rejects.toThrow(SealedValueError);
    const bytes = Buffer.from(data.name!.split(':')[4]!, 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    const tampered = {
      ...sealed!,
      data: { ...data, name: `keel:phi:v1:${data.name!.split(':')[3]}:${bytes.toString('base64url')}` },
    };
    await expect(encryption.open(tampered, plain)).rejects.toThrow(SealedValueError);
  });

  it('rotates a data key: new events use the new version, old ones still open', async () => {
    const { encryption } = await open(catalog);
    const [before] = await encryption.seal([admitted('patient-r')]);
    expect(await encryption.rotateDataKey('patient-r')).toBe(2);
    const [after] = await encryption.seal([admitted('patient-r')]);
    expect((before!.data as { name: string }).name.split(':')[3]).not.toBe(
      (after!.data as { name: string }).name.split(':')[3],
    );
    for (const event of [before, after]) {
      expect((await encryption.open(event!, plain)).data).toMatchObject({ name: 'Name-patient-r' });
    }
    await encryption.erase('patient-r');
    for (const event of [before, after]) {
      expect((await encryption.open(event!, plain)).data).toMatchObject({ name: REDACTED_VALUE });
    }
  });

  it('rotates the master key: every data key rewrapped, old events open under the new key only', async () => {
    const { encryption, keyPath, master } = await open(catalog);
    const [sealed] = await encryption.seal([admitted('patient-m')]);
    const next = randomMasterKey();
    expect(await encryption.rotateMasterKey(next)).toBe(1);
    expect((await encryption.open(sealed!, plain)).data).toMatchObject({ name: 'Name-patient-m' });
    const withOld = createFieldEncryption({
      keyStore: createSqliteKeyStore({ path: keyPath }),
      masterKey: master,
      catalog,
    });
    await expect(withOld.start()).rejects.toThrow(MasterKeyError);
    await withOld.close();
    const withNew = createFieldEncryption({
      keyStore: createSqliteKeyStore({ path: keyPath }),
      masterKey: next,
      catalog,
    });
    await withNew.start();
    expect((await withNew.open(sealed!, plain)).data).toMatchObject({ name: 'Name-patient-m' });
    await withNew.close();
  });

  it('refuses to start with a master key other than the store’s, naming both fingerprints', async () => {
    const { keyPath, master } = await open(catalog);
    const wrong = randomMasterKey();
    const other = createFieldEncryption({
      keyStore: createSqliteKeyStore({ path: keyPath }),
      masterKey: wrong,
      catalog,
    });
    const error = await other.start().then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(MasterKeyError);
    expect((error as MasterKeyError).problem).toBe('mismatch');
    expect((error as Error).message).toContain(master.id);
    expect((error as Error).message).toContain(wrong.id);
    await other.close();
  });

  it('refuses an event with sensitive fields but no subject, and seals by a configured field instead', async () => {
    const { encryption } = await open(catalog);
    const event = createEvent(PatientAdmitted, admission('patient-s'), { source: 'urn:test' });
    const keyless = { ...event, subject: undefined, partitionkey: undefined };
    await expect(encryption.seal([keyless])).rejects.toThrow(PhiSubjectMissingError);
    const fielded = createFieldEncryption({
      keyStore: createSqliteKeyStore({ path: ':memory:' }),
      masterKey: randomMasterKey(),
      catalog,
      subjectField: '/patientId',
    });
    await fielded.start();
    const [sealed] = await fielded.seal([keyless]);
    expect((await fielded.open(sealed!, plain)).data).toMatchObject({ name: 'Name-patient-s' });
    await fielded.erase('patient-s');
    expect((await fielded.open(sealed!, plain)).data).toMatchObject({ name: REDACTED_VALUE });
    await fielded.close();
  });

  it('leaves events of types without sensitive fields as they are', async () => {
    const { encryption } = await open(catalog);
    const other = { ...admitted('p'), type: 'test.other', id: randomUUID() };
    const [sealed] = await encryption.seal([other]);
    expect(sealed).toBe(other);
  });
});
