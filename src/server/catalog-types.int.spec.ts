import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatientCreated, PatientUpdated } from '../../examples/catalog.ts';
import { createEvent } from '../events/create-event.ts';
import { patientCatalog, request } from './test-support/api-fixture.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';

const topic = 'api.catalog.patients';
let temp: TempNode;

beforeAll(async () => {
  temp = await startTempNode({ catalog: patientCatalog(topic) });
  const { node } = temp;
  const data = { patientId: 'p-1', firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1815-12-10' };
  await node.publisher.publish(PatientCreated, data);
  await node.publisher.publish(PatientCreated, { ...data, patientId: 'p-2' });
  await node.publisher.publishEvents([createEvent(PatientCreated, data, { source: 'urn:test:intake' })]);
  // A group with a committed offset on the topic is one of its consumers.
  await node.groupAdmin.commitOffsets('catalog-readers', [{ topic, partition: 0, offset: 0n }]);
});
afterAll(async () => {
  await temp?.close();
});

describe('catalog types', () => {
  it('lists each type with its schema, a valid example, the producers seen and the consumer groups', async () => {
    const answer = await request(temp.node, 'GET', '/v1/catalog/types');
    expect(answer.statusCode).toBe(200);
    const [created, updated] = answer.json().items;
    expect(created).toMatchObject({
      type: PatientCreated.type,
      topic,
      exampleValid: true,
      producers: [
        { source: 'urn:keel:node', count: 2 },
        { source: 'urn:test:intake', count: 1 },
      ],
      consumerGroups: ['catalog-readers'],
    });
    expect(created.schema.properties.dateOfBirth).toMatchObject({ type: 'string', format: 'date' });
    expect(PatientCreated.schema.safeParse(created.example).success).toBe(true);
    expect(updated).toMatchObject({ type: PatientUpdated.type, exampleValid: true, producers: [] });
    // Generated, not random: the same example on every call.
    const again = await request(temp.node, 'GET', `/v1/catalog/types/${PatientCreated.type}`);
    expect(again.json().example).toEqual(created.example);
  });

  it('looks at no records with maxScan=0, and answers 404 for an unknown type', async () => {
    const none = await request(temp.node, 'GET', `/v1/catalog/types/${PatientCreated.type}?maxScan=0`);
    expect(none.json().producers).toEqual([]);
    const missing = await request(temp.node, 'GET', '/v1/catalog/types/nothing.here');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().errors[0].path).toBe('params.type');
  });
});
