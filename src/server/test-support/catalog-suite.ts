import { beforeAll, expect, it } from 'vitest';
import { PatientCreated, PatientUpdated } from '../../../examples/catalog.ts';
import { createEvent } from '../../events/create-event.ts';
import type { ApiFixture } from './api-fixture.ts';
import { request } from './api-fixture.ts';

interface Producer {
  source: string;
  count: number;
}

/** Catalog types: schema, a generated example, producers seen on the topic and the groups on it. */
export function catalogSuite(fixture: () => ApiFixture): void {
  const source = `urn:test:catalog-${Date.now()}`;
  let group: string;
  beforeAll(async () => {
    const { node, topic } = fixture();
    group = fixture().group('catalog');
    const data = { patientId: 'c-1', firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1815-12-10' };
    await node.publisher.publishEvents([
      createEvent(PatientCreated, data, { source }),
      createEvent(PatientCreated, { ...data, patientId: 'c-2' }, { source }),
    ]);
    // A group with a committed offset on the topic is one of its consumers.
    await node.groupAdmin.commitOffsets(group, [{ topic, partition: 0, offset: 0n }]);
  });

  it('lists each type with its schema, a valid example, the producers seen and the consumer groups', async () => {
    const { node, topic } = fixture();
    const answer = await request(node, 'GET', '/v1/catalog/types');
    expect(answer.statusCode).toBe(200);
    const [created, updated] = answer.json().items;
    expect(created).toMatchObject({ type: PatientCreated.type, topic, exampleValid: true });
    expect(created.producers).toContainEqual(expect.objectContaining({ source, count: 2 }));
    expect(created.producers.map((p: Producer) => p.source)).not.toContain('urn:test:nobody');
    expect(created.consumerGroups).toContain(group);
    expect(created.schema.properties.dateOfBirth).toMatchObject({ type: 'string', format: 'date' });
    expect(PatientCreated.schema.safeParse(created.example).success).toBe(true);
    expect(updated).toMatchObject({ type: PatientUpdated.type, exampleValid: true });
    expect(updated.producers.map((p: Producer) => p.source)).not.toContain(source);
    // Generated, not random: the same example on every call.
    const again = await request(node, 'GET', `/v1/catalog/types/${PatientCreated.type}`);
    expect(again.json().example).toEqual(created.example);
  });

  it('looks at no records with maxScan=0, and answers 404 for an unknown type', async () => {
    const { node } = fixture();
    const none = await request(node, 'GET', `/v1/catalog/types/${PatientCreated.type}?maxScan=0`);
    expect(none.json().producers).toEqual([]);
    const missing = await request(node, 'GET', '/v1/catalog/types/nothing.here');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().errors[0].path).toBe('params.type');
  });
}
