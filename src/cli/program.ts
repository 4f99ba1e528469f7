import { Command, Option } from 'commander';
import { CONFIG_FILE_ENV, CONFIG_KEYS, LOG_LEVELS } from '../config/config-schema.ts';
import { registerAuditCommand } from './audit-command.ts';
import { EXIT_CONFIG, reportFailure } from './fail.ts';
import { registerKeysCommand } from './keys-command.ts';
import { packageVersion } from './package-version.ts';
import { registerRegistryCommand } from './registry-command.ts';
import { registerDlqCommands } from './remote/dlq-commands.ts';
import { registerEraseCommand } from './remote/erase-command.ts';
import { registerEventCommands } from './remote/event-commands.ts';
import { registerGroupsCommands } from './remote/groups-commands.ts';
import { registerQueryCommand } from './remote/query-command.ts';
import { registerStoreCommands } from './remote/store-commands.ts';
import { registerSubscriptionCommands } from './remote/subscription-commands.ts';
import { registerTopicsRemoteCommands } from './remote/topics-commands.ts';
import { registerTraceCommand } from './remote/trace-command.ts';
import { registerWorkflowCommands } from './remote/workflow-commands.ts';
import { registerReplayCommand } from './replay-command.ts';
import { registerTopicsCommand } from './topics-command.ts';

const ENVIRONMENT_HELP = `
Configuration, highest priority first: flags, environment variables, keel.config.(ts|js|mjs|json)
in the working directory (or the file named by --config / ${CONFIG_FILE_ENV}), defaults.

Environment variables:
  KEEL_PORT             HTTP port (default 4000; 0 picks a free port)
  KEEL_HOST             interface to bind (default 127.0.0.1)
  KEEL_DATA_DIR         folder of the SQLite file keel.db (default ./.keel)
  KEEL_TRANSPORT        embedded | kafka (default embedded)
  KEEL_KAFKA_BROKERS    comma-separated host:port bootstrap servers
  KEEL_KAFKA_TLS        true: connect to Kafka over TLS, trusting the system's CAs
  KEEL_KAFKA_TLS_CA_FILE
                        PEM file of the CA of the brokers' certificates (implies TLS)
  KEEL_KAFKA_SASL_MECHANISM
                        PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512, with the credentials below
  KEEL_KAFKA_SASL_USERNAME, KEEL_KAFKA_SASL_PASSWORD
                        SASL credentials
  KEEL_STORE            sqlite | postgres (default sqlite): the event store keel replay reads
  KEEL_POSTGRES_URL     postgres:// connection string
  KEEL_CATALOG          module exporting the catalog (default: the example catalog)
  KEEL_MAX_EVENT_BYTES  largest event accepted, in bytes (default 1048576)
  KEEL_ALLOW_UNTYPED    true: accept unknown event types onto the topic keel.untyped (default false)
  KEEL_LOG_LEVEL        ${LOG_LEVELS.join(' | ')} (default info)
  KEEL_SYNC             full | normal: SQLite synchronous mode (default full)
  ${CONFIG_FILE_ENV.padEnd(20)}  path of the configuration file

Exit codes: 0 after a graceful shutdown (SIGTERM, SIGINT), 1 on failure, 2 on a configuration error.

Examples:
  $ keel start
  $ KEEL_PORT=8080 KEEL_DATA_DIR=/var/lib/keel keel start
  $ keel start --port 0 --data-dir /tmp/keel --catalog ./domains/catalog.ts`;

/** Builds the `keel` command line (commands, options, help); `main.ts` runs it on `process.argv`. */
export function createProgram(): Command {
  const program = new Command('keel');
  program
    .description(
      'Keel: the event backbone of a platform of services (typed CloudEvents on an embedded log or Kafka).',
    )
    .version(packageVersion(), '-v, --version', 'print the version of keel')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(run with --help for usage)')
    // Usage errors are configuration errors from the operator's point of view: same exit code.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_CONFIG))
    .addHelpText('after', '\nRun `keel start --help` for the configuration keys and environment variables.');

  const configOption = () =>
    new Option('-c, --config <file>', `configuration file (also ${CONFIG_FILE_ENV})`);
  const catalogOption = () =>
    new Option('--catalog <module>', `module exporting the event catalog (also ${CONFIG_KEYS.catalog.env})`);

  program
    .command('start')
    .description('start a platform node: HTTP API, metrics and the transport (embedded or Kafka)')
    .addOption(new Option('-p, --port <port>', `HTTP port (also ${CONFIG_KEYS.port.env}; default 4000)`))
    .addOption(
      new Option('--host <host>', `interface to bind (also ${CONFIG_KEYS.host.env}; default 127.0.0.1)`),
    )
    .addOption(
      new Option(
        '-d, --data-dir <dir>',
        `folder of the SQLite file (also ${CONFIG_KEYS.dataDir.env}; default ./.keel)`,
      ),
    )
    .addOption(configOption())
    .addOption(catalogOption())
    .addOption(
      new Option('--log-level <level>', `log level (also ${CONFIG_KEYS.logLevel.env})`).choices(LOG_LEVELS),
    )
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(
      async (options: {
        port?: string;
        host?: string;
        dataDir?: string;
        config?: string;
        catalog?: string;
        logLevel?: string;
      }) => {
        // Loaded on use so `--help` and `catalog` do not load fastify and SQLite.
        const { runStart } = await import('./start-command.ts');
        await runStart(options);
      },
    );

  const catalog = program
    .command('catalog')
    .description(
      'list the event types and topics of the catalog (`keel catalog schemas` writes their JSON Schemas)',
    )
    .option('--json', 'print as JSON')
    .addOption(configOption())
    .addOption(catalogOption())
    .action(async (options: { json?: boolean; config?: string; catalog?: string }) => {
      const { runCatalog } = await import('./catalog-command.ts');
      await runCatalog(options, process.stdout).catch(exitOnError);
    });
  catalog
    .command('schemas')
    .description("write the JSON Schema of each event type's data (or print them all as JSON)")
    .option('-o, --out <dir>', 'folder to write <type>.schema.json files into')
    .addOption(configOption())
    .addOption(catalogOption())
    .action(async (options: { out?: string; config?: string; catalog?: string }) => {
      const { runCatalogSchemas } = await import('./catalog-command.ts');
      await runCatalogSchemas(options, process.stdout).catch(exitOnError);
    });

  registerTopicsRemoteCommands(registerTopicsCommand(program, () => [configOption(), catalogOption()]));
  registerReplayCommand(program);
  registerRegistryCommand(program, () => [configOption(), catalogOption()]);
  registerKeysCommand(program);
  registerAuditCommand(program);
  // Commands that talk to a running node over its HTTP API (--url, KEEL_URL).
  registerEventCommands(program);
  registerGroupsCommands(program);
  registerDlqCommands(program);
  registerSubscriptionCommands(program);
  registerStoreCommands(program);
  registerWorkflowCommands(program);
  registerTraceCommand(program);
  registerQueryCommand(program);
  registerEraseCommand(program);

  return program;
}

function exitOnError(error: unknown): never {
  process.exit(reportFailure(error, process.stderr));
}
