import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type LoadedCatalog, loadCatalog } from '../config/load-catalog.ts';
import { type ConfigFlags, describeKey, loadConfig } from '../config/load-config.ts';
import { type CatalogView, describeCatalog } from '../server/describe-catalog.ts';
import type { TextSink } from './gated-stream.ts';

/** Loads the catalog the node would load, with the same configuration. */
async function configuredCatalog(flags: ConfigFlags): Promise<LoadedCatalog> {
  const { config, sources } = await loadConfig({ flags });
  return loadCatalog({
    path: config.catalog,
    allowUntyped: config.allowUntyped,
    key: describeKey('catalog', sources.catalog),
  });
}

/** `keel catalog`: prints the event types and topics, as a table or (`json`) as JSON. */
export async function runCatalog(flags: ConfigFlags & { json?: boolean }, stdout: TextSink): Promise<void> {
  const { catalog, label } = await configuredCatalog(flags);
  const view = describeCatalog(catalog);
  stdout.write(flags.json ? `${JSON.stringify(view, null, 2)}\n` : formatCatalog(view, label));
}

/** `keel catalog schemas`: writes `<type>.schema.json` for each event type into `out`, or prints them all as JSON. */
export async function runCatalogSchemas(
  flags: ConfigFlags & { out?: string },
  stdout: TextSink,
): Promise<void> {
  const { catalog } = await configuredCatalog(flags);
  const schemas = catalog.jsonSchemas();
  if (flags.out === undefined) {
    stdout.write(`${JSON.stringify({ schemas }, null, 2)}\n`);
    return;
  }
  const folder = resolve(flags.out);
  mkdirSync(folder, { recursive: true });
  for (const [type, schema] of Object.entries(schemas)) {
    const file = join(folder, `${type}.schema.json`);
    writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
    stdout.write(`${file}\n`);
  }
}

/** The catalog as aligned text tables: event types, then topics. */
export function formatCatalog(view: CatalogView, label: string): string {
  const lines = [`catalog ${label}`, '', `event types (${view.events.length})`];
  lines.push(
    ...table(
      ['TYPE', 'VERSION', 'TOPIC', 'DESCRIPTION'],
      view.events.map((e) => [e.type, String(e.version), e.topic ?? '-', e.description ?? '']),
    ),
  );
  lines.push('', `topics (${view.topics.length})`);
  lines.push(
    ...table(
      ['NAME', 'PARTITIONS', 'EVENTS'],
      view.topics.map((t) => [
        t.name + (t.name === view.untypedTopic ? ' (untyped)' : ''),
        String(t.partitions),
        t.events.join(', ') || (t.name === view.untypedTopic ? 'any type not in the catalog' : '-'),
      ]),
    ),
  );
  return `${lines.join('\n')}\n`;
}

function table(header: readonly string[], rows: readonly string[][]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}
