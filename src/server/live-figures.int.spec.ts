import { describe, expect, it } from 'vitest';
import { patientCatalog } from './test-support/api-fixture.ts';
import { openSse } from './test-support/sse-client.ts';
import { startTempNode } from './test-support/temp-node.ts';

// The figures themselves are proven by the figures suite (store-api specs, both transports).
describe('node figures stream', () => {
  it('ends open streams when the node closes, without waiting for their clients', async () => {
    const temp = await startTempNode({ catalog: patientCatalog('api.figures.closing') });
    const stream = await openSse(`${temp.node.url}/v1/live/figures?intervalMs=15000`);
    try {
      await stream.until((frame) => frame.id === '1');
      const started = Date.now();
      await temp.close();
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      stream.close();
    }
  });
});
