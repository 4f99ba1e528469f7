import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, runCli, spawnCli, type WatchedProcess } from './test-support/run-cli.ts';

// `keel start` with field encryption, in child processes: the master key is checked before anything is
// written, and `keel erase` destroys a subject's key through the node's API.
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-phi-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const src = (part: string) => JSON.stringify(join(PACKAGE_ROOT, 'src', 'events', part));
function writeCatalog(): string {
  const file = join(dir, 'catalog.ts');
  writeFileSync(
    file,
    `import { z } from ${JSON.stringify(join(PACKAGE_ROOT, 'node_modules', 'zod', 'index.js'))};
import { createCatalog } from ${src('catalog.ts')};
import { defineEvent } from ${src('define-event.ts')};
import { defineTopic } from ${src('define-topic.ts')};
const Admitted = defineEvent({
  type: 'cli.phi.admitted',
  version: 1,
  schema: z.object({ patientId: z.string(), name: z.string(), ward: z.string() }),
  sensitive: ['/name'],
  partitionKey: (data) => data.patientId,
});
export default createCatalog({ topics: [defineTopic({ name: 'cli.phi', partitions: 2, replication: 1, events: [Admitted] })] });
`,
  );
  return file;
}

const startArgs = (catalog: string) => [
  'start',
  '--catalog',
  catalog,
  '--port',
  '0',
  '--data-dir',
  join(dir, 'data'),
];
const env = (key?: string): Record<string, string> => ({
  KEEL_SYNC: 'normal',
  KEEL_LOG_LEVEL: 'warn',
  ...(key === undefined ? {} : { KEEL_PHI_MASTER_KEY: key }),
});
const rawValues = () => {
  const db = new BetterSqlite3(join(dir, 'data', 'keel.db'), { readonly: true });
  try {
    // The catalog topic's records (the node's own topics, such as keel.audit, hold no event data).
    const query = "SELECT r.value FROM records r JOIN topics t ON t.id = r.topic_id WHERE t.name = 'cli.phi'";
    return (db.prepare(query).all() as { value: Buffer }[]).map((row) =>
      Buffer.from(row.value).toString('utf8'),
    );
  } finally {
    db.close();
  }
};

async function started(catalog: string, key: string): Promise<{ node: WatchedProcess; url: string }> {
  const node = spawnCli(startArgs(catalog), { env: env(key) });
  const line = await node.waitForLine(/^keel listening on /, 20_000);
  return { node, url: /listening on (\S+)/.exec(line)![1]! };
}

async function stop(node: WatchedProcess): Promise<void> {
  node.child.kill('SIGTERM');
  expect((await node.exited).status).toBe(0);
}

describe('keel start with sensitive fields in the catalog', () => {
  it('refuses to start without a master key, naming the settings, and writes nothing', async () => {
    const result = await runCli(startArgs(writeCatalog()), { env: env() });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('KEEL_PHI_MASTER_KEY or KEEL_PHI_MASTER_KEY_FILE');
    expect(result.stderr).toContain('no master key given');
    expect(existsSync(join(dir, 'data', 'keel.db'))).toBe(false);
  });

  it('refuses a malformed master key', async () => {
    const result = await runCli(startArgs(writeCatalog()), { env: env('not-a-key') });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('KEEL_PHI_MASTER_KEY: must be 32 random bytes');
  });

  it('seals what it publishes, erases through `keel erase`, and refuses a wrong master key on restart', async () => {
    const catalog = writeCatalog();
    const key = randomBytes(32).toString('base64');
    const { node, url } = await started(catalog, key);
    try {
      for (const patientId of ['patient-1', 'patient-2']) {
        const response = await fetch(`${url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify({
            specversion: '1.0',
            id: randomBytes(8).toString('hex'),
            source: 'urn:test',
            type: 'cli.phi.admitted',
            subject: patientId,
            data: { patientId, name: `Name-${patientId}`, ward: 'icu' },
          }),
        });
        expect(response.status, await response.text()).toBeLessThan(300);
      }
      const erased = await runCli(['erase', '--subject', 'patient-1', '--url', url]);
      expect(erased.stdout, erased.stderr).toBe('erased patient-1: 1 data key destroyed\n');
      const again = await runCli(['erase', '--subject', 'patient-1', '--url', url, '-o', 'json']);
      expect(JSON.parse(again.stdout)).toMatchObject({ subject: 'patient-1', keysDestroyed: 0 });
    } finally {
      await stop(node);
    }
    const before = rawValues();
    expect(before).toHaveLength(2);
    for (const value of before) {
      expect(value).not.toContain('Name-patient');
      expect(value).toContain('keel:phi:v1:');
    }

    const wrong = await runCli(startArgs(catalog), { env: env(randomBytes(32).toString('base64')) });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(
      /data keys are wrapped by master key [0-9a-f]{16}, but the master key given is/,
    );
    expect(rawValues()).toEqual(before);
    // The secret itself never reaches the output.
    expect(wrong.stderr + wrong.stdout).not.toContain(key);
  }, 60_000);
});
