import { afterAll, beforeAll, describe } from 'vitest';
import type { ApiFixture } from './test-support/api-fixture.ts';
import { patientCatalog } from './test-support/api-fixture.ts';
import { patientCounts, storeSuite } from './test-support/store-suite.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';
import { traceSuite } from './test-support/trace-suite.ts';
import { apiWorkflows, workflowsSuite } from './test-support/workflows-suite.ts';

// The store routes on the embedded default: the event store in the node's own SQLite file.
let temp: TempNode;
let fixture: ApiFixture;
let sequence = 0;
beforeAll(async () => {
  const topic = 'api.store.patients';
  temp = await startTempNode({
    catalog: patientCatalog(topic),
    projections: [patientCounts],
    workflows: apiWorkflows,
  });
  fixture = {
    node: temp.node,
    topic,
    group: (label) => `store-${label}-${++sequence}`,
    totalRecords: () => temp.totalRecords(),
    close: () => temp.close(),
  };
});
afterAll(async () => {
  await temp?.close();
});

describe('HTTP API: event store on SQLite (embedded transport)', () => {
  describe('store', () => storeSuite(() => fixture));
  describe('trace', () => traceSuite(() => fixture));
  describe('workflows', () => workflowsSuite(() => fixture));
});
