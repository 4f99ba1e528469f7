import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { loadConfig } from '../config/load-config.ts';
import { storeConnection } from '../config/store-connection.ts';
import { SECURITY_FILE_NAME } from '../security/identity/api-key-store.ts';
import { EXIT_FAILURE, reportFailure } from './fail.ts';
import type { TextSink } from './gated-stream.ts';

/** Adds `keel audit verify`, which walks the audit chain where the node keeps it. */
export function registerAuditCommand(program: Command): void {
  const audit = program
    .command('audit')
    .description("the node's audit trail (hash-chained keel.audit records)");
  audit
    .command('verify')
    .description(
      'check every audit record: its hash, its link to the one before, no gap; names the first bad one',
    )
    .addOption(new Option('-d, --data-dir <dir>', 'the node data folder (also KEEL_DATA_DIR)'))
    .addOption(new Option('-c, --config <file>', 'configuration file (also KEEL_CONFIG)'))
    .addHelpText(
      'after',
      '\nThe trail is in <KEEL_DATA_DIR>/security.db, or in PostgreSQL (KEEL_POSTGRES_URL, KEEL_POSTGRES_SCHEMA) when\nKEEL_STORE=postgres. Exit codes: 0 the chain holds; 1 a record was changed, removed or reordered; 2 configuration.',
    )
    .action(async (flags: { dataDir?: string; config?: string }) => {
      process.exitCode = await runAuditVerify(flags, process.stdout, process.stderr);
    });
}

/** `keel audit verify`: 0 when the chain holds, 1 naming the first bad record. */
export async function runAuditVerify(
  flags: { dataDir?: string; config?: string },
  stdout: TextSink,
  stderr: TextSink,
): Promise<number> {
  try {
    const { config, sources } = await loadConfig({
      flags: {
        ...(flags.config ? { config: flags.config } : {}),
        ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
      },
    });
    const connection = storeConnection(config, sources);
    const log =
      connection.store === 'postgres'
        ? (await import('../security/audit/postgres/postgres-audit-log.ts')).createPostgresAuditLog(
            connection,
          )
        : (await import('../security/audit/sqlite/sqlite-audit-log.ts')).createSqliteAuditLog({
            path: join(config.dataDir, SECURITY_FILE_NAME),
          });
    try {
      const result = await log.verify();
      if (result.ok) {
        stdout.write(`audit trail verified: ${result.records} records, every hash and link holds\n`);
        return 0;
      }
      stderr.write(`keel: audit trail broken at record ${result.seq}: ${result.problem}\n`);
      return EXIT_FAILURE;
    } finally {
      await log.close();
    }
  } catch (error) {
    return reportFailure(error, stderr, 'audit verify');
  }
}
