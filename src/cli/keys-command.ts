import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { loadConfig } from '../config/load-config.ts';
import {
  type ApiKeyRecord,
  createApiKeyStore,
  SECURITY_FILE_NAME,
} from '../security/identity/api-key-store.ts';
import { ROLES } from '../security/identity/identity.ts';
import { EXIT_CONFIG, reportFailure } from './fail.ts';
import type { TextSink } from './gated-stream.ts';

/** `keel keys create` options as commander hands them over. */
export interface KeysCreateFlags {
  name: string;
  role: string[];
  tenant?: string[];
  topic?: string[];
  type?: string[];
  expires?: string;
  config?: string;
  dataDir?: string;
}

const HELP = `
These commands work on the node's data folder (KEEL_DATA_DIR, --data-dir): run them on the node's machine.
That is also how the first admin key of a fresh node is made, before anyone can call the API:

  $ keel keys create --name first-admin --role admin --data-dir /var/lib/keel
  keel_3f9a0c1b_...   (shown once: store it now; the node keeps only its hash)

Remote commands send a key (or an OpenID Connect token) from KEEL_API_KEY or --key-file.
Keys can also be managed over the API by an admin: GET/POST /v1/keys, DELETE /v1/keys/:prefix.`;

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Adds `keel keys create|list|revoke`, which work on the data folder's `security.db`. */
export function registerKeysCommand(program: Command): void {
  const keys = program
    .command('keys')
    .description("manage the node's API keys (in its data folder)")
    .addHelpText('after', HELP);
  const place = (command: Command) =>
    command
      .addOption(new Option('-d, --data-dir <dir>', 'the node data folder (also KEEL_DATA_DIR)'))
      .addOption(new Option('-c, --config <file>', 'configuration file (also KEEL_CONFIG)'));
  place(
    keys
      .command('create')
      .description('create a key and print it (once: only its hash is kept)')
      .requiredOption('--name <name>', 'what the key is for, e.g. ci-publisher')
      .addOption(new Option('--role <role>', 'a role (repeat for several)').choices(ROLES).argParser(collect))
      .addOption(
        new Option('--tenant <tenant>', 'a tenant it may see (repeat; default all)').argParser(collect),
      )
      .addOption(new Option('--topic <pattern>', 'a topic pattern (repeat; default all)').argParser(collect))
      .addOption(
        new Option('--type <pattern>', 'an event type pattern (repeat; default all)').argParser(collect),
      )
      .option('--expires <when>', 'expiry: an ISO date, or a duration such as 30d or 12h'),
  ).action(async (flags: KeysCreateFlags) => {
    process.exitCode = await runKeysCreate(flags, process.stdout, process.stderr);
  });
  place(
    keys.command('list').description('list the keys (never the keys themselves)').option('--json', 'as JSON'),
  ).action(async (flags: { json?: boolean; config?: string; dataDir?: string }) => {
    process.exitCode = await withStore(flags, process.stderr, (store) => {
      const records = store.list();
      process.stdout.write(flags.json ? `${JSON.stringify(records)}\n` : table(records));
      return 0;
    });
  });
  place(keys.command('revoke').description('revoke a key by its prefix').argument('<prefix>')).action(
    async (prefix: string, flags: { config?: string; dataDir?: string }) => {
      process.exitCode = await withStore(flags, process.stderr, (store) => {
        const active = store.revoke(prefix);
        process.stdout.write(active ? `revoked ${prefix}\n` : `${prefix} was already revoked\n`);
        return 0;
      });
    },
  );
}

/** `keel keys create`: prints the new key on stdout (its only showing) and what it may do on stderr. */
export async function runKeysCreate(
  flags: KeysCreateFlags,
  stdout: TextSink,
  stderr: TextSink,
): Promise<number> {
  if (!flags.role || flags.role.length === 0) {
    stderr.write(`keel: keys create: --role is required (one of ${ROLES.join(', ')})\n`);
    return EXIT_CONFIG;
  }
  const expiresAt = flags.expires === undefined ? undefined : expiryOf(flags.expires);
  if (expiresAt === null) {
    stderr.write(
      `keel: keys create: --expires "${flags.expires}" is neither an ISO date nor a duration like 30d\n`,
    );
    return EXIT_CONFIG;
  }
  return withStore(flags, stderr, (store) => {
    const { key, record } = store.create({
      name: flags.name,
      roles: flags.role as ApiKeyRecord['roles'],
      ...(flags.tenant ? { tenants: flags.tenant } : {}),
      ...(flags.topic ? { topics: flags.topic } : {}),
      ...(flags.type ? { types: flags.type } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    });
    stdout.write(`${key}\n`);
    stderr.write(
      `created key ${record.prefix} (${record.name}: ${record.roles.join(', ')}); it is shown only now\n`,
    );
    return 0;
  });
}

async function withStore(
  flags: { config?: string; dataDir?: string },
  stderr: TextSink,
  work: (store: ReturnType<typeof createApiKeyStore>) => number,
): Promise<number> {
  try {
    const { config } = await loadConfig({
      flags: {
        ...(flags.config ? { config: flags.config } : {}),
        ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
      },
    });
    mkdirSync(config.dataDir, { recursive: true });
    const store = createApiKeyStore({ path: join(config.dataDir, SECURITY_FILE_NAME) });
    try {
      return work(store);
    } finally {
      store.close();
    }
  } catch (error) {
    const code = reportFailure(error, stderr, 'keys');
    return (error as { code?: unknown }).code === 'KEEL_OPTIONS' ? EXIT_CONFIG : code;
  }
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An expiry from an ISO date or a duration from now (`30d`, `12h`, `45m`); null when it is neither. */
function expiryOf(text: string): Date | null {
  const duration = /^(\d+)([mhd])$/.exec(text.trim());
  if (duration)
    return new Date(Date.now() + Number(duration[1]) * (UNIT_MS[duration[2] as string] as number));
  const date = new Date(text);
  return Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(text) ? null : date;
}

function table(records: readonly ApiKeyRecord[]): string {
  const rows = records.map((r) =>
    [
      r.prefix,
      r.name,
      r.roles.join(','),
      r.tenants.join(','),
      r.expiresAt?.toISOString() ?? '-',
      r.revokedAt ? 'revoked' : 'active',
    ].join('  '),
  );
  return `${['PREFIX', 'NAME', 'ROLES', 'TENANTS', 'EXPIRES', 'STATE'].join('  ')}\n${rows.join('\n')}\n`;
}
