import type { Command } from 'commander';
import { Option } from 'commander';
import { loadCatalog } from '../config/load-catalog.ts';
import { type ConfigFlags, describeKey, loadConfig } from '../config/load-config.ts';
import { type CatalogRegistryView, checkCatalogSchemas, keelVersionOf } from '../registry/catalog-schemas.ts';
import { EXIT_FAILURE, reportFailure } from './fail.ts';
import type { TextSink } from './gated-stream.ts';
import { DEFAULT_NODE_URL } from './remote/node-client.ts';

/** The node's registry API (Confluent's verbose check, and the latest version of a subject). */
export function remoteRegistryView(url: string): CatalogRegistryView {
  const base = `${url.replace(/\/$/, '')}/registry`;
  return {
    async check(subject, input) {
      const response = await fetch(
        `${base}/compatibility/subjects/${encodeURIComponent(subject)}/versions?verbose=true`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
          body: JSON.stringify(input),
        },
      );
      const body = (await response.json()) as {
        is_compatible?: boolean;
        messages?: string[];
        message?: string;
      };
      if (!response.ok)
        throw new Error(`${url} refused the check of ${subject}: ${body.message ?? response.status}`);
      return body.is_compatible === true ? [] : (body.messages ?? ['incompatible']);
    },
    async latestKeelVersion(subject) {
      const response = await fetch(`${base}/subjects/${encodeURIComponent(subject)}/versions/latest`);
      const body = (await response.json()) as { schema?: string; error_code?: number; message?: string };
      if (body.error_code === 40401) return undefined;
      if (!response.ok || body.schema === undefined) {
        throw new Error(
          `${url} could not say the latest version of ${subject}: ${body.message ?? response.status}`,
        );
      }
      return keelVersionOf(body.schema);
    },
  };
}

/**
 * `keel registry check`: checks every event type of the catalog against the node's registry, before
 * anything is deployed; prints each refusal with its reasons and exits 1 when there is one.
 */
export async function runRegistryCheck(
  flags: ConfigFlags & { url?: string },
  stdout: TextSink,
  stderr: TextSink,
): Promise<number> {
  try {
    const { config, sources } = await loadConfig({ flags });
    const { catalog, label } = await loadCatalog({
      path: config.catalog,
      allowUntyped: config.allowUntyped,
      key: describeKey('catalog', sources.catalog),
    });
    const url = flags.url ?? process.env.KEEL_URL ?? DEFAULT_NODE_URL;
    const refused = await checkCatalogSchemas(catalog, remoteRegistryView(url));
    if (refused.length === 0) {
      stdout.write(
        `catalog ${label}: ${catalog.events.length} event types compatible with the registry at ${url}\n`,
      );
      return 0;
    }
    for (const verdict of refused) {
      stderr.write(`incompatible: ${verdict.type} (defineEvent version ${verdict.version})\n`);
      for (const reason of verdict.reasons) stderr.write(`  ${reason}\n`);
    }
    return EXIT_FAILURE;
  } catch (error) {
    return reportFailure(error, stderr, 'registry check');
  }
}

/** Adds `keel registry check`. */
export function registerRegistryCommand(program: Command, options: () => Option[]): void {
  const registry = program.command('registry').description("the node's schema registry");
  const check = registry
    .command('check')
    .description("check the catalog's event schemas against the node's registry (for CI, before deploying)")
    .addOption(new Option('--url <url>', `the node's address (also KEEL_URL; default ${DEFAULT_NODE_URL})`));
  for (const option of options()) check.addOption(option);
  check.action(async (flags: ConfigFlags & { url?: string }) => {
    process.exitCode = await runRegistryCheck(flags, process.stdout, process.stderr);
  });
}
