import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiFixture, patientCatalog, request } from './test-support/api-fixture.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';
import { transferSuite } from './test-support/transfer-suite.ts';

let temp: TempNode;
let fixture: ApiFixture;
beforeAll(async () => {
  const topic = 'transfer.patients';
  temp = await startTempNode({ catalog: patientCatalog(topic) });
  fixture = {
    node: temp.node,
    topic,
    group: (label) => `transfer-${label}`,
    totalRecords: () => temp.totalRecords(),
    close: () => temp.close(),
  };
});
afterAll(async () => {
  await temp?.close();
});

describe('export and import on the embedded transport', () => {
  transferSuite(
    () => fixture,
    async () => {
      const topic = 'imported.patients';
      const target = await startTempNode({ catalog: patientCatalog(topic) });
      return { node: target.node, topic, close: () => target.close() };
    },
  );

  it('answers export with 403 naming the setting when the node forbids it', async () => {
    const locked = await startTempNode({
      catalog: patientCatalog('locked'),
      config: { exportEnabled: false },
    });
    try {
      const response = await request(locked.node, 'GET', '/v1/topics/locked/export');
      expect(response.statusCode).toBe(403);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({
        type: 'https://keel.dev/problems/forbidden',
        setting: 'KEEL_EXPORT_ENABLED',
      });
    } finally {
      await locked.close();
    }
  });
});
