import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openPhi } from '../../bus/middleware/open-phi.ts';
import { createPublisher } from '../../bus/publisher.ts';
import { createRouter } from '../../bus/router.ts';
import { MASKED_VALUE, REDACTED_VALUE } from '../../events/sensitive-fields.ts';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import { admission, PatientAdmitted, phiCatalog, sqliteEncryption } from './test-support/phi-fixtures.ts';

const quiet = { logger: pino({ level: 'silent' }) };

describe('openPhi on a batch handler', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('opens every event of a batch for the reader: plain, redacted once erased, or masked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-phi-batch-'));
    const catalog = phiCatalog('phi.batch', 1);
    const { encryption, close } = await sqliteEncryption(catalog);
    const transport = createEmbeddedTransport({ path: join(dir, 'log.db'), ...quiet });
    cleanups.push(async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    });
    cleanups.push(() => transport.close());
    await transport.ensureTopics(catalog.topics);
    const publisher = createPublisher({
      transport,
      catalog,
      source: 'urn:test',
      sealer: encryption.seal,
      ...quiet,
    });
    await publisher.publishMany(PatientAdmitted, ['p1', 'p2', 'p1', 'p3'].map(admission));
    await publisher.close();
    await encryption.erase('p3');

    for (const reader of [{ canReadPhi: true }, { canReadPhi: false }]) {
      const names: string[] = [];
      const router = createRouter({
        transport,
        catalog,
        group: `batch-${reader.canReadPhi}`,
        middleware: [openPhi(encryption, reader)],
        shutdownSignals: [],
        ...quiet,
      });
      router.onBatch(
        PatientAdmitted,
        (events) => {
          for (const event of events) names.push(`${event.data!.patientId}=${event.data!.name}`);
        },
        { maxEvents: 10, maxWaitMs: 20 },
      );
      await router.start();
      const deadline = Date.now() + 10_000;
      while (names.length < 4 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      await router.close();
      // A batch keeps each key's order; across keys the order is the batch's own.
      expect(names.sort()).toEqual(
        reader.canReadPhi
          ? ['p1=Name-p1', 'p1=Name-p1', 'p2=Name-p2', `p3=${REDACTED_VALUE}`]
          : ['p1', 'p1', 'p2', 'p3'].map((id) => `${id}=${MASKED_VALUE}`),
      );
    }
  });
});
