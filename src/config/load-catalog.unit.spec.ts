import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { DEFAULT_CATALOG_PATH, EXAMPLE_CATALOG_PATH, loadCatalog } from './load-catalog.ts';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CATALOG_MODULE = JSON.stringify(fileURLToPath(new URL('../events/catalog.ts', import.meta.url)));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-catalog-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadCatalog', () => {
  it('loads the healthcare pack by default, named relative to the working directory', async () => {
    const { catalog, path, label } = await loadCatalog({ cwd: PACKAGE_ROOT });
    expect(path).toBe(join(PACKAGE_ROOT, 'domains', 'healthcare', 'catalog.ts'));
    expect(path).toBe(DEFAULT_CATALOG_PATH);
    expect(label).toBe('domains/healthcare/catalog.ts');
    expect(catalog.route('healthcare.patient.created').topic.name).toBe('healthcare.patients.events');
    expect(catalog.route('healthcare.claim.denied').topic.name).toBe('healthcare.rcm.events');
    expect(() => catalog.route('acme.unknown')).toThrow(
      expect.objectContaining({ code: 'KEEL_UNKNOWN_EVENT_TYPE' }),
    );
  });

  it('adds the keel.untyped topic when untyped events are allowed, keeping known types where they were', async () => {
    const { catalog } = await loadCatalog({ path: EXAMPLE_CATALOG_PATH, allowUntyped: true });
    expect(catalog.route('acme.unknown').topic.name).toBe('keel.untyped');
    expect(catalog.route('healthcare.patient.created').topic.name).toBe('healthcare.patients.events');
    expect(catalog.topics.map((topic) => topic.name)).toEqual(['healthcare.patients.events', 'keel.untyped']);
    expect(catalog.events.map((event) => event.type)).toEqual([
      'healthcare.patient.created',
      'healthcare.patient.updated',
    ]);
  });

  it('accepts a catalog exported by name', async () => {
    const file = join(dir, 'named.ts');
    writeFileSync(
      file,
      `import { createCatalog } from ${CATALOG_MODULE};\nexport const catalog = createCatalog({ topics: [] });\n`,
    );
    const { catalog } = await loadCatalog({ path: file });
    expect(catalog.topics).toEqual([]);
  });

  it('names the setting when the module exports no catalog', async () => {
    const file = join(dir, 'other.ts');
    writeFileSync(file, 'export default { topics: [] };\n');
    const error = await loadCatalog({ path: file, key: '--catalog', cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      '--catalog: other.ts exports no catalog: expected a default export or a named export "catalog" made with createCatalog',
    );
  });
});
