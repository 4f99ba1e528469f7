import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCatalog } from '../events/catalog.ts';
import { defineEvent } from '../events/define-event.ts';
import { defineTopic } from '../events/define-topic.ts';
import { CatalogIncompatibleError } from '../registry/catalog-schemas.ts';
import { createSchemaRegistry } from '../registry/schema-registry.ts';
import { createSqliteRegistryStorage } from '../registry/sqlite/sqlite-registry-storage.ts';
import { startTempNode, type TempNode } from '../server/test-support/temp-node.ts';
import { PACKAGE_ROOT, runCli } from './test-support/run-cli.ts';

const v1 = z.object({ admissionId: z.string(), ward: z.string() });
const catalogOf = (schema: z.ZodType) =>
  createCatalog({
    topics: [
      defineTopic({
        name: 'admissions',
        partitions: 1,
        events: [defineEvent({ type: 'healthcare.admission.opened', version: 1, schema })],
      }),
    ],
  });

/** A catalog module the CLI loads: the admission event with the given zod shape (source text). */
function catalogModule(dir: string, name: string, shape: string, versioning = 'version: 1'): string {
  const src = (part: string) => JSON.stringify(join(PACKAGE_ROOT, 'src', 'events', part));
  const file = join(dir, name);
  writeFileSync(
    file,
    `import { z } from ${JSON.stringify(join(PACKAGE_ROOT, 'node_modules', 'zod', 'index.js'))};
import { createCatalog } from ${src('catalog.ts')};
import { defineEvent } from ${src('define-event.ts')};
import { defineTopic } from ${src('define-topic.ts')};
export const catalog = createCatalog({ topics: [defineTopic({ name: 'admissions', partitions: 1, events: [
  defineEvent({ type: 'healthcare.admission.opened', ${versioning}, schema: z.object(${shape}) }),
] })] });
`,
  );
  return file;
}

describe('the catalog registers itself, and `keel registry check` refuses incompatible changes', () => {
  let temp: TempNode;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-registry-cli-'));
    temp = await startTempNode({ catalog: catalogOf(v1) });
  });
  afterAll(async () => {
    await temp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers every event type on start, as JSON Schema under its type', async () => {
    const registered = await temp.node.store.registry.version('healthcare.admission.opened', 'latest');
    expect(registered).toMatchObject({ version: 1, schemaType: 'JSON' });
    expect(JSON.parse(registered.schema)).toMatchObject({
      properties: { admissionId: { type: 'string' }, ward: { type: 'string' } },
      required: ['admissionId', 'ward'],
      additionalProperties: false,
      'x-keel-version': 1,
    });
  });

  it('passes a compatible catalog and refuses an incompatible one with the reason, changing nothing', async () => {
    const env = {};
    const compatible = catalogModule(
      dir,
      'compatible.ts',
      '{ admissionId: z.string(), ward: z.string(), bed: z.string().optional() }',
    );
    const ok = await runCli(
      ['registry', 'check', '--url', temp.node.url as string, '--catalog', compatible],
      { env },
    );
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain('1 event types compatible with the registry');
    expect(ok.status).toBe(0);

    const breaking = catalogModule(
      dir,
      'breaking.ts',
      '{ admissionId: z.string(), ward: z.string(), bed: z.string() }',
    );
    const refused = await runCli(
      ['registry', 'check', '--url', temp.node.url as string, '--catalog', breaking],
      { env },
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('incompatible: healthcare.admission.opened (defineEvent version 1)');
    expect(refused.stderr).toContain(
      "version 1 (the new schema reads data written with it): REQUIRED_PROPERTY_ADDED at /required: property 'bed' is required by the reader but not by the writer",
    );
    expect(await temp.node.store.registry.versions('healthcare.admission.opened')).toEqual([1]);
  });

  it('a version step covered by an upcaster passes: consumers read the older data through it', async () => {
    const upcast =
      "version: 2, upcasters: [{ fromVersion: 1, upcast: (d) => ({ ...d, bed: 'unassigned' }) }]";
    const stepped = catalogModule(
      dir,
      'stepped.ts',
      '{ admissionId: z.string(), ward: z.string(), bed: z.string() }',
      upcast,
    );
    const ok = await runCli(['registry', 'check', '--url', temp.node.url as string, '--catalog', stepped], {
      env: {},
    });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
  });

  it('a node whose catalog breaks the registered schemas refuses to start, before it publishes anything', async () => {
    // The same data folder after a restart, with the event type narrowed.
    await temp.node.close();
    const narrowed = catalogOf(z.object({ admissionId: z.string(), ward: z.enum(['A', 'B']) }));
    const started = startNodeOn(temp.dir, narrowed);
    await expect(started).rejects.toBeInstanceOf(CatalogIncompatibleError);
    await expect(started).rejects.toThrow(/ENUM_ARRAY_NARROWED at \/properties\/ward\/enum/);
    const storage = createSqliteRegistryStorage({ path: temp.node.dataFile });
    try {
      expect(await createSchemaRegistry({ storage }).versions('healthcare.admission.opened')).toEqual([1]);
    } finally {
      await storage.close();
    }
    // The same change with an upcaster from version 1 starts, and registers the new defineEvent version.
    const stepped = defineEvent({
      type: 'healthcare.admission.opened',
      version: 2,
      schema: z.object({ admissionId: z.string(), ward: z.enum(['A', 'B']) }),
      upcasters: [{ fromVersion: 1, upcast: (data) => ({ ...(data as object), ward: 'A' }) }],
    });
    await startNodeOn(
      temp.dir,
      createCatalog({ topics: [defineTopic({ name: 'admissions', partitions: 1, events: [stepped] })] }),
    );
    const after = createSqliteRegistryStorage({ path: temp.node.dataFile });
    try {
      const latest = await createSchemaRegistry({ storage: after }).version(
        'healthcare.admission.opened',
        'latest',
      );
      expect(latest.version).toBe(2);
      expect(JSON.parse(latest.schema)['x-keel-version']).toBe(2);
    } finally {
      await after.close();
    }
  });
});

/** Starts a node on an existing data folder (the temp node helper always makes a new one). */
async function startNodeOn(dataDir: string, catalog: ReturnType<typeof createCatalog>): Promise<void> {
  const { createNode } = await import('../server/node.ts');
  const { configSchema } = await import('../config/config-schema.ts');
  const { pino } = await import('pino');
  const node = createNode({
    config: configSchema.parse({ port: 0, logLevel: 'silent', sync: 'normal', dataDir }),
    catalog,
    logger: pino({ level: 'silent' }),
  });
  try {
    await node.start();
  } finally {
    await node.close();
  }
}
