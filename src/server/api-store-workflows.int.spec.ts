import { afterAll, beforeAll, describe } from 'vitest';
import type { ApiFixture } from './test-support/api-fixture.ts';
import { patientCatalog } from './test-support/api-fixture.ts';
import { catalogSuite } from './test-support/catalog-suite.ts';
import { figuresSuite } from './test-support/figures-suite.ts';
import { patientCounts, storeSuite } from './test-support/store-suite.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';
import { traceSuite } from './test-support/trace-suite.ts';
import { apiWorkflows, workflowsSuite } from './test-support/workflows-suite.ts';

// Store, trace, workflow, catalog-type and figures routes on the embedded default: the event store in the
// node's own SQLite file. One node for the suites, in order (the store suite expects an empty store).
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

describe('HTTP API on the embedded transport and the SQLite store', () => {
  describe('store', () => storeSuite(() => fixture));
  describe('trace', () => traceSuite(() => fixture));
  describe('workflows', () => workflowsSuite(() => fixture));
  describe('catalog types', () => catalogSuite(() => fixture));
  describe('figures', () => figuresSuite(() => fixture));
});
