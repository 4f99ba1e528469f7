import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, runCli, spawnCli } from './test-support/run-cli.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a catalog module into the temp folder that imports Keel from this checkout. */
function writeCatalogModule(name: string, body: string): string {
  const file = join(dir, name);
  const src = (part: string) => JSON.stringify(join(PACKAGE_ROOT, 'src', 'events', part));
  writeFileSync(
    file,
    `import { z } from ${JSON.stringify(join(PACKAGE_ROOT, 'node_modules', 'zod', 'index.js'))};
import { createCatalog } from ${src('catalog.ts')};
import { defineEvent } from ${src('define-event.ts')};
import { defineTopic } from ${src('define-topic.ts')};
${body}`,
  );
  return file;
}

describe('keel --version and --help', () => {
  it('prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const result = await runCli(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('documents the commands and every environment variable', async () => {
    const main = await runCli(['--help']);
    expect(main.status).toBe(0);
    expect(main.stdout).toMatch(/start \[options\]/);
    expect(main.stdout).toMatch(/catalog \[options\]/);
    const start = await runCli(['start', '--help']);
    for (const name of [
      'KEEL_PORT',
      'KEEL_HOST',
      'KEEL_DATA_DIR',
      'KEEL_TRANSPORT',
      'KEEL_KAFKA_BROKERS',
      'KEEL_STORE',
    ]) {
      expect(start.stdout).toContain(name);
    }
    for (const name of [
      'KEEL_POSTGRES_URL',
      'KEEL_CATALOG',
      'KEEL_MAX_EVENT_BYTES',
      'KEEL_ALLOW_UNTYPED',
      'KEEL_SYNC',
    ]) {
      expect(start.stdout).toContain(name);
    }
    expect(start.stdout).toMatch(/--data-dir <dir>/);
  });

  it('exits 2 on an unknown command', async () => {
    const result = await runCli(['launch']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown command 'launch'");
  });
});

describe('keel start configuration errors', () => {
  const startFails = async (env: Record<string, string>, args: string[] = [], cwd = dir) => {
    const result = await runCli(['start', ...args], {
      env: { KEEL_DATA_DIR: join(dir, 'data'), ...env },
      cwd,
    });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    // One line, no stack.
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    return result.stderr.trimEnd();
  };

  it('names a bad environment variable and why', async () => {
    expect(await startFails({ KEEL_PORT: 'abc' })).toBe(
      'keel: KEEL_PORT: expected an integer between 0 and 65535, got "abc"',
    );
  });

  it('names a bad flag', async () => {
    expect(await startFails({}, ['--port', '99999'])).toBe(
      'keel: --port: expected an integer between 0 and 65535, got "99999"',
    );
  });

  it('names a bad key of the configuration file', async () => {
    writeFileSync(join(dir, 'keel.config.json'), JSON.stringify({ sync: 'sometimes' }));
    expect(await startFails({})).toBe(
      'keel: sync (keel.config.json): expected "full" or "normal", got "sometimes"',
    );
  });

  it('rejects the kafka transport without brokers, naming the variable to set', async () => {
    expect(await startFails({ KEEL_TRANSPORT: 'kafka' })).toBe(
      'keel: KEEL_KAFKA_BROKERS: required when the transport is kafka: a comma-separated list of host:port',
    );
  });

  it('rejects SASL credentials without a mechanism', async () => {
    expect(
      await startFails({
        KEEL_TRANSPORT: 'kafka',
        KEEL_KAFKA_BROKERS: '127.0.0.1:19092',
        KEEL_KAFKA_SASL_USERNAME: 'keel',
      }),
    ).toBe(
      'keel: KEEL_KAFKA_SASL_MECHANISM: required with a SASL username or password: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512',
    );
  });

  it('rejects the postgres store without a connection string, naming the key to set', async () => {
    writeFileSync(join(dir, 'keel.config.json'), JSON.stringify({ store: 'postgres' }));
    expect(await startFails({})).toBe(
      'keel: KEEL_POSTGRES_URL: required when the store is postgres: a postgres:// connection string',
    );
  });

  it('names a catalog module that cannot be loaded', async () => {
    expect(await startFails({ KEEL_CATALOG: './missing-catalog.ts' })).toMatch(
      /^keel: KEEL_CATALOG: cannot load the catalog module .*missing-catalog\.ts: /,
    );
  });

  it('names a catalog module that exports no catalog', async () => {
    writeFileSync(join(dir, 'empty.mjs'), 'export const nothing = 1;\n');
    expect(await startFails({}, ['--catalog', 'empty.mjs'])).toBe(
      'keel: --catalog: empty.mjs exports no catalog: expected a default export or a named export "catalog" made with createCatalog',
    );
  });
});

describe('keel start', () => {
  it('reads keel.config.json from the working directory and stops with 0 on SIGINT', async () => {
    writeFileSync(
      join(dir, 'keel.config.json'),
      JSON.stringify({ port: 0, dataDir: 'node-data', sync: 'normal' }),
    );
    const node = spawnCli(['start'], { cwd: dir });
    try {
      // The default catalog (the healthcare pack) makes ten topics and registers 33 schemas on a first start.
      const line = await node.waitForLine(/^keel /, 60_000);
      expect(node.stdout().startsWith(line)).toBe(true);
      expect(line).toMatch(
        new RegExp(
          `^keel listening on http://127\\.0\\.0\\.1:[1-9]\\d* \\(transport embedded, data ${join(dir, 'node-data', 'keel.db').replaceAll('.', '\\.')}, catalog .*domains/healthcare/catalog\\.ts\\)$`,
        ),
      );
      expect(existsSync(join(dir, 'node-data', 'keel.db'))).toBe(true);
    } finally {
      node.child.kill('SIGINT');
    }
    const result = await node.exited;
    expect(result.status, JSON.stringify(result)).toBe(0);
    // After the first line come pino's JSON logs.
    const logs = result.stdout.split('\n').slice(1).filter(Boolean);
    expect(logs.length).toBeGreaterThan(0);
    for (const log of logs) expect(() => JSON.parse(log)).not.toThrow();
  }, 90_000);

  it('exits 1 with one line when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const result = await runCli(['start', '--port', String(port), '--data-dir', join(dir, 'data')], {
        timeoutMs: 60_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr.trimEnd()).toMatch(/^keel: cannot start: .*EADDRINUSE/);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stdout).not.toMatch(/^keel listening/);
    } finally {
      blocker.close();
    }
  }, 90_000);
});

describe('keel catalog', () => {
  it('prints the event types and topics of the default catalog (the healthcare pack)', async () => {
    const result = await runCli(['catalog']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/healthcare\.patient\.created\s+1\s+healthcare\.patients\.events/);
    expect(result.stdout).toMatch(/healthcare\.patients\.events\s+12\s+healthcare\.patient\.created/);
  });

  it('prints JSON with --json, including the untyped topic when allowed', async () => {
    const result = await runCli(['catalog', '--json'], { env: { KEEL_ALLOW_UNTYPED: 'true' } });
    expect(result.status).toBe(0);
    const view = JSON.parse(result.stdout) as {
      events: { type: string; topic: string }[];
      topics: { name: string }[];
      untypedTopic: string | null;
    };
    expect(view.events).toContainEqual(
      expect.objectContaining({ type: 'healthcare.patient.created', topic: 'healthcare.patients.events' }),
    );
    expect(view.untypedTopic).toBe('keel.untyped');
    expect(view.topics.map((t) => t.name)).toContain('keel.untyped');
  });

  it('loads the catalog named by KEEL_CATALOG', async () => {
    writeCatalogModule(
      'billing.ts',
      `const Paid = defineEvent({ type: 'billing.invoice.paid', version: 2, schema: z.object({ invoiceId: z.string() }), upcasters: [{ fromVersion: 1, upcast: (d) => d }] });
export const catalog = createCatalog({ topics: [defineTopic({ name: 'billing.events', partitions: 3, events: [Paid] })] });
`,
    );
    const result = await runCli(['catalog', '--json'], { env: { KEEL_CATALOG: 'billing.ts' }, cwd: dir });
    expect(result.status, result.stderr).toBe(0);
    const view = JSON.parse(result.stdout) as { events: unknown[] };
    expect(view.events).toEqual([
      { type: 'billing.invoice.paid', version: 2, topic: 'billing.events', description: null },
    ]);
  });

  it('writes one JSON Schema file per event type with `catalog schemas --out`', async () => {
    const out = join(dir, 'schemas');
    const result = await runCli(['catalog', 'schemas', '--out', out]);
    expect(result.status).toBe(0);
    const file = join(out, 'healthcare.patient.created.schema.json');
    expect(result.stdout).toContain(file);
    const schema = JSON.parse(readFileSync(file, 'utf8')) as {
      type: string;
      required: string[];
      title: string;
    };
    expect(schema.type).toBe('object');
    expect(schema.title).toBe('healthcare.patient.created');
    expect(schema.required).toEqual(
      expect.arrayContaining(['patientId', 'firstName', 'lastName', 'dateOfBirth']),
    );
    expect(existsSync(join(out, 'healthcare.patient.updated.schema.json'))).toBe(true);
  });

  it('exits 2 naming the setting when the catalog cannot be loaded', async () => {
    const result = await runCli(['catalog'], { env: { KEEL_CATALOG: join(dir, 'nope.ts') } });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^keel: KEEL_CATALOG: cannot load the catalog module /);
  });
});
