import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catalog, PatientCreated } from '../../examples/catalog.ts';
import type { Identity } from '../security/identity/identity.ts';
import { createEmbeddedTransport } from '../transport/embedded/index.ts';
import type { Transport } from '../transport/transport.ts';
import { createPublisher } from './publisher.ts';
import { createRouter } from './router.ts';

const data = { patientId: 'p-1', firstName: 'Ada', lastName: 'L', dateOfBirth: '1815-12-10' };
const producer = (scope: Partial<Identity>): Identity => ({
  subject: 'key:test',
  name: 'test',
  via: 'api-key',
  roles: ['producer'],
  tenants: ['*'],
  topics: ['*'],
  types: ['*'],
  ...scope,
});

describe('a publisher with an identity attached', () => {
  let dir: string;
  let transport: Transport;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-guard-'));
    transport = createEmbeddedTransport({ path: join(dir, 'keel.db') });
    await transport.ensureTopics(catalog.topics.map((t) => ({ name: t.name, partitions: t.partitions })));
  });
  afterEach(async () => {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const written = async () => {
    let total = 0n;
    for (const topic of catalog.topics) {
      for (const p of await transport.offsets(topic.name)) total += p.latest;
    }
    return total;
  };

  it('publishes within its tenants, types and topics, and refuses the rest before the transport', async () => {
    const acme = createPublisher({
      transport,
      catalog,
      source: 'urn:test',
      identity: producer({ tenants: ['acme'] }),
    });
    await acme.publish(PatientCreated, data, { tenantId: 'acme' });
    expect(await written()).toBe(1n);
    await expect(acme.publish(PatientCreated, data, { tenantId: 'globex' })).rejects.toMatchObject({
      code: 'KEEL_FORBIDDEN',
    });
    // An event without a tenant belongs to no tenant: only an identity of every tenant may publish it.
    await expect(acme.publish(PatientCreated, data)).rejects.toMatchObject({ code: 'KEEL_FORBIDDEN' });
    await expect(
      acme.publishEvents([
        { specversion: '1.0', id: 'a', source: 'urn:t', type: PatientCreated.type, tenantid: 'acme', data },
        { specversion: '1.0', id: 'b', source: 'urn:t', type: PatientCreated.type, tenantid: 'globex', data },
      ] as never),
    ).rejects.toMatchObject({ code: 'KEEL_FORBIDDEN' });
    await expect(
      acme.transaction((tx) => {
        tx.publish(PatientCreated, data, { tenantId: 'acme' });
        tx.publish(PatientCreated, data, { tenantId: 'globex' });
      }),
    ).rejects.toMatchObject({ code: 'KEEL_FORBIDDEN' });
    expect(() => acme.emit(PatientCreated, data, { tenantId: 'globex' })).toThrow(/forbidden/);
    expect(await written()).toBe(1n);

    const otherTypes = createPublisher({
      transport,
      catalog,
      source: 'urn:test',
      identity: producer({ types: ['billing.*'] }),
    });
    await expect(otherTypes.publish(PatientCreated, data, { tenantId: 'acme' })).rejects.toThrow(/forbidden/);
    const otherTopics = createPublisher({
      transport,
      catalog,
      source: 'urn:test',
      identity: producer({ topics: ['billing.*'] }),
    });
    await expect(otherTopics.publish(PatientCreated, data, { tenantId: 'acme' })).rejects.toThrow(
      /forbidden/,
    );
    const consumer = createPublisher({
      transport,
      catalog,
      source: 'urn:test',
      identity: producer({ roles: ['consumer'] }),
    });
    await expect(consumer.publish(PatientCreated, data, { tenantId: 'acme' })).rejects.toThrow(/forbidden/);
    expect(await written()).toBe(1n);
    await Promise.all([acme, otherTypes, otherTopics, consumer].map((p) => p.close()));
  });

  it('a router with an identity refuses types it may not read, and hands its handlers only its tenants', async () => {
    const writer = createPublisher({ transport, catalog, source: 'urn:test' });
    for (const tenantId of ['acme', 'globex', 'acme'])
      await writer.publish(PatientCreated, data, { tenantId });
    await writer.publish(PatientCreated, data);

    const refused = createRouter({
      transport,
      catalog,
      group: 'g-refused',
      identity: producer({ roles: ['producer'] }),
    });
    refused.on(PatientCreated, () => {});
    await expect(refused.start()).rejects.toMatchObject({ code: 'KEEL_FORBIDDEN' });
    await refused.close();
    const wrongType = createRouter({
      transport,
      catalog,
      group: 'g-type',
      identity: producer({ roles: ['consumer'], types: ['billing.*'] }),
    });
    wrongType.on(PatientCreated, () => {});
    await expect(wrongType.start()).rejects.toThrow(/forbidden/);
    await wrongType.close();

    const seen: string[] = [];
    const router = createRouter({
      transport,
      catalog,
      group: 'g-acme',
      identity: producer({ roles: ['consumer'], tenants: ['acme'] }),
    });
    router.on(PatientCreated, (event) => {
      seen.push(String(event.tenantid));
    });
    await router.start();
    const deadline = Date.now() + 10_000;
    while ((await transport.groupLag('g-acme', [catalog.topics[0]?.name ?? ''])).some((p) => p.lag > 0n)) {
      if (Date.now() > deadline) throw new Error('the router did not catch up');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await router.close();
    await writer.close();
    expect(seen).toEqual(['acme', 'acme']);
  });
});
