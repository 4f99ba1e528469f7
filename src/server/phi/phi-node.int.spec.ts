import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCatalog } from '../../events/catalog.ts';
import { createEvent } from '../../events/create-event.ts';
import { defineEvent } from '../../events/define-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { startTempNode, type TempNode } from '../test-support/temp-node.ts';

const Admitted = defineEvent({
  type: 'node.phi.admitted',
  version: 1,
  schema: z.object({ patientId: z.string(), name: z.string(), ward: z.string() }),
  sensitive: ['/name'],
  partitionKey: (data) => data.patientId,
});
const catalog = createCatalog({
  topics: [defineTopic({ name: 'node.phi', partitions: 2, replication: 1, events: [Admitted] })],
});
const masterKey = randomBytes(32).toString('hex');

async function appendAdmission(temp: TempNode, patientId: string): Promise<void> {
  const event = createEvent(
    Admitted,
    { patientId, name: `Name-${patientId}`, ward: 'icu' },
    { source: 'urn:test' },
  );
  await temp.node.store.store.append(`patient-${patientId}`, [event]);
}

async function readName(temp: TempNode, patientId: string, key?: string): Promise<unknown> {
  const response = await fetch(`${temp.node.url}/v1/store/streams/patient-${patientId}`, {
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
  });
  expect(response.status).toBe(200);
  const page = (await response.json()) as { items: Array<{ event: { data: { name: unknown } } }> };
  return page.items[0]?.event.data.name;
}

/** Names in every store read path of the API, as `key` sees them. */
async function namesSeen(temp: TempNode, key: string): Promise<string[]> {
  const seen: string[] = [];
  for (const path of ['/v1/store/events?limit=100', '/v1/store/streams/patient-a']) {
    const response = await fetch(`${temp.node.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status, path).toBe(200);
    const page = (await response.json()) as { items: Array<{ event: { data: { name: string } } }> };
    seen.push(...page.items.map((item) => item.event.data.name));
  }
  return seen;
}

const erase = (temp: TempNode, subject: string) =>
  fetch(`${temp.node.url}/v1/erasures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ subject, reason: 'erasure request 42' }),
  });

describe('the node with field encryption', () => {
  let temp: TempNode | undefined;
  afterEach(async () => {
    await temp?.close();
    temp = undefined;
  });

  it('masks sensitive fields in store reads unless the node may read PHI', async () => {
    temp = await startTempNode({ catalog, config: { phiMasterKey: masterKey } });
    await appendAdmission(temp, 'a');
    expect(await readName(temp, 'a')).toBe('[masked]');
  });

  it('shows them plain with KEEL_PHI_READ, and redacted for good after an erasure over the API', async () => {
    temp = await startTempNode({ catalog, config: { phiMasterKey: masterKey, phiRead: true } });
    await appendAdmission(temp, 'a');
    await appendAdmission(temp, 'b');
    expect(await readName(temp, 'a')).toBe('Name-a');
    const response = await erase(temp, 'a');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ subject: 'a', keysDestroyed: 1 });
    expect(await readName(temp, 'a')).toBe('[redacted]');
    expect(await readName(temp, 'b')).toBe('Name-b');
  });

  it('shows sensitive fields in plain only to identities with the read-PHI permission', async () => {
    temp = await startTempNode({ catalog, config: { phiMasterKey: masterKey, auth: 'required' } });
    await appendAdmission(temp, 'a');
    const consumer = temp.node.keys.create({ name: 'reader', roles: ['consumer'] }).key;
    const clinician = temp.node.keys.create({ name: 'clinician', roles: ['consumer', 'phi-reader'] }).key;
    const admin = temp.node.keys.create({ name: 'admin', roles: ['admin'] }).key;
    expect(await namesSeen(temp, consumer)).toEqual(['[masked]', '[masked]']);
    expect(await namesSeen(temp, admin)).toEqual(['[masked]', '[masked]']);
    expect(await namesSeen(temp, clinician)).toEqual(['Name-a', 'Name-a']);
    // The same requests in turn: each identity keeps its own view.
    expect(await readName(temp, 'a', consumer)).toBe('[masked]');
    expect(await readName(temp, 'a', clinician)).toBe('Name-a');
  });

  it('refuses a bad erasure request with problem+json and changes nothing', async () => {
    temp = await startTempNode({ catalog, config: { phiMasterKey: masterKey, phiRead: true } });
    await appendAdmission(temp, 'a');
    const response = await fetch(`${temp.node.url}/v1/erasures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subject: '' }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await readName(temp, 'a')).toBe('Name-a');
  });

  it('answers an erasure with 409 when the node has no field encryption', async () => {
    temp = await startTempNode();
    const response = await erase(temp, 'a');
    expect(response.status).toBe(409);
    expect(((await response.json()) as { detail: string }).detail).toContain('not configured');
  });
});
