import { afterAll, beforeAll, describe } from 'vitest';
import type { ApiFixture } from './test-support/api-fixture.ts';
import { patientCatalog } from './test-support/api-fixture.ts';
import { deadLettersSuite } from './test-support/dead-letters-suite.ts';
import { groupsSuite } from './test-support/groups-suite.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';
import { topicsSuite } from './test-support/topics-suite.ts';

// One node for the three suites: topics seeds the events the groups and dead-letter suites read.
let temp: TempNode;
let fixture: ApiFixture;
let sequence = 0;
beforeAll(async () => {
  const topic = 'api.patients';
  temp = await startTempNode({ catalog: patientCatalog(topic) });
  fixture = {
    node: temp.node,
    topic,
    group: (label) => `api-${label}-${++sequence}`,
    totalRecords: () => temp.totalRecords(),
    close: () => temp.close(),
  };
});
afterAll(async () => {
  await temp?.close();
});

describe('HTTP API on the embedded transport', () => {
  describe('topics', () => topicsSuite(() => fixture));
  describe('consumer groups', () => groupsSuite(() => fixture, { sessionTimeoutMs: 2_000 }));
  describe('dead letters', () => deadLettersSuite(() => fixture));
});
