import { type Command, Option } from 'commander';
import { ConfigError, type ConfigIssue } from '../config/config-error.ts';
import { loadConfig } from '../config/load-config.ts';
import { storeConnection } from '../config/store-connection.ts';
import type { EventStore, StoredEvent } from '../store/event-store.ts';
import type { ReplayFilter, ReplayProgress, ReplayReport } from '../store/replay/replay.ts';
import type { Transport } from '../transport/transport.ts';
import { EXIT_CONFIG, EXIT_FAILURE, reportFailure } from './fail.ts';
import type { TextSink } from './gated-stream.ts';

/** `keel replay` options as commander hands them over (text, checked by `runReplay`). */
export interface ReplayFlags {
  types?: string;
  tenant?: string;
  from?: string;
  to?: string;
  correlationId?: string;
  streamPrefix?: string;
  toTopic?: string;
  rate?: string;
  dryRun?: boolean;
  batchSize?: string;
  schema?: string;
  config?: string;
}

/** Where `keel replay` writes: NDJSON (or the dry-run count) on `stdout`, progress and the summary on `stderr`. */
export interface ReplayIo {
  stdout: TextSink;
  stderr: TextSink & { isTTY?: boolean; columns?: number };
  /** Stops the replay after the chunk in flight (SIGINT). */
  signal?: AbortSignal;
}

const HELP = `
Without --to-topic, events go to stdout as NDJSON (one stored event per line); with it, they are
republished to that topic of the configured transport (KEEL_TRANSPORT), keyed by their partition key.
The store is KEEL_STORE: sqlite reads <KEEL_DATA_DIR>/keel.db, postgres reads KEEL_POSTGRES_URL.
Progress goes to stderr: a bar on a terminal, a line every 10 % otherwise.

Examples:
  $ keel replay --dry-run --types healthcare.patient.admitted --from 2026-01-01
  $ keel replay --tenant acme --stream-prefix patient- --to-topic healthcare.patients.replay --rate 500
  $ keel replay --correlation-id 0d6f... > incident.ndjson`;

/** Adds `keel replay` to the program; the command's work is loaded only when it runs. */
export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description(
      'replay stored events, selected by tenant, types, time, correlation or stream, to stdout or a topic',
    )
    .option('--types <types>', 'comma-separated CloudEvents types')
    .option('--tenant <tenant>', 'only this tenant’s events')
    .option('--from <time>', 'recorded at or after this ISO 8601 time')
    .option('--to <time>', 'recorded before this ISO 8601 time')
    .option('--correlation-id <id>', 'only events with this correlation id')
    .option('--stream-prefix <prefix>', 'only streams whose id starts with this text')
    .option('--to-topic <topic>', 'republish to this topic of the configured transport')
    .option('--rate <events-per-second>', 'deliver at most this many events per second')
    .option('--dry-run', 'only count the events a replay would deliver')
    .option('--batch-size <n>', 'events read per query (default 500)')
    .option('--schema <name>', 'PostgreSQL schema of the store (default KEEL_POSTGRES_SCHEMA, else keel)')
    .addOption(new Option('-c, --config <file>', 'configuration file (also KEEL_CONFIG)'))
    .addHelpText('after', HELP)
    .action(async (flags: ReplayFlags) => {
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.exitCode = await runReplay(flags, {
        stdout: process.stdout,
        stderr: process.stderr,
        signal: stop.signal,
      });
    });
}

/** The replay the flags ask for, checked; ConfigError names every wrong flag. */
interface ReplayPlan {
  filter: ReplayFilter;
  rate: number | undefined;
  batchSize: number | undefined;
}

function parseFlags(flags: ReplayFlags): ReplayPlan {
  const issues: ConfigIssue[] = [];
  const time = (flag: string, text: string | undefined): Date | undefined => {
    if (text === undefined) return undefined;
    const value = new Date(text);
    if (Number.isNaN(value.getTime()))
      issues.push({ key: flag, message: `expected an ISO 8601 time, got "${text}"` });
    return value;
  };
  const positive = (flag: string, text: string | undefined, integer: boolean): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isSafeInteger(value))) {
      issues.push({
        key: flag,
        message: `expected ${integer ? 'an integer' : 'a number'} > 0, got "${text}"`,
      });
    }
    return value;
  };
  const nonEmpty = (flag: string, text: string | undefined): string | undefined => {
    if (text !== undefined && text.trim() === '') issues.push({ key: flag, message: 'expected a value' });
    return text;
  };
  const types = flags.types
    ?.split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (flags.types !== undefined && types?.length === 0)
    issues.push({ key: '--types', message: 'expected a comma-separated list of event types' });
  const filter: ReplayFilter = {
    types,
    tenantId: nonEmpty('--tenant', flags.tenant),
    since: time('--from', flags.from),
    until: time('--to', flags.to),
    correlationId: nonEmpty('--correlation-id', flags.correlationId),
    streamPrefix: nonEmpty('--stream-prefix', flags.streamPrefix),
  };
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    issues.push({ key: '--to', message: 'must be later than --from' });
  }
  nonEmpty('--to-topic', flags.toTopic);
  const plan = {
    filter: Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as ReplayFilter,
    rate: positive('--rate', flags.rate, false),
    batchSize: positive('--batch-size', flags.batchSize, true),
  };
  if (issues.length > 0) throw new ConfigError(issues);
  return plan;
}

/** Reports progress on stderr: a bar redrawn in place on a terminal, a line every 10 % otherwise. */
function progressReporter(stderr: ReplayIo['stderr'], what: string): (progress: ReplayProgress) => void {
  let lastDecile = -1;
  let lastDraw = 0;
  return ({ processed, total, elapsedMs }) => {
    const share = total === 0 ? 1 : Math.min(1, processed / total);
    const rate = elapsedMs > 0 ? Math.round((processed / elapsedMs) * 1000) : 0;
    const counts = `${processed.toLocaleString('en-US')}/${total.toLocaleString('en-US')} events`;
    if (stderr.isTTY) {
      const now = performance.now();
      // Redrawn at most 10 times a second, and always at the end.
      if (processed < total && now - lastDraw < 100) return;
      lastDraw = now;
      const width = Math.max(10, Math.min(40, (stderr.columns ?? 80) - 50));
      const filled = Math.round(share * width);
      stderr.write(
        `\r${what} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(share * 100)}% ${counts} ${rate.toLocaleString('en-US')} events/s`,
      );
      if (processed >= total) stderr.write('\n');
      return;
    }
    const decile = Math.floor(share * 10);
    if (decile === lastDecile) return;
    lastDecile = decile;
    stderr.write(`${what}: ${decile * 10}% (${counts}, ${rate.toLocaleString('en-US')} events/s)\n`);
  };
}

async function openStore(
  flags: ReplayFlags,
): Promise<{ store: EventStore; config: Awaited<ReturnType<typeof loadConfig>> }> {
  const loaded = await loadConfig({ flags: { config: flags.config } });
  const connection = storeConnection(
    loaded.config,
    loaded.sources,
    'when the store is postgres (KEEL_STORE)',
  );
  if (connection.store === 'sqlite') {
    const { createSqliteEventStore } = await import('../store/sqlite/index.ts');
    return { store: createSqliteEventStore({ path: connection.path }), config: loaded };
  }
  const { createPostgresEventStore } = await import('../store/postgres/index.ts');
  return {
    store: createPostgresEventStore({
      url: connection.url,
      schema: flags.schema ?? connection.schema,
      maxConnections: 2,
    }),
    config: loaded,
  };
}

async function openTransport(loaded: Awaited<ReturnType<typeof loadConfig>>): Promise<Transport> {
  const { config, sources } = loaded;
  if (config.transport === 'kafka') {
    const [{ kafkaConnection }, { createKafkaTransport }] = await Promise.all([
      import('../config/kafka-connection.ts'),
      import('../transport/kafka/index.ts'),
    ]);
    return createKafkaTransport({
      ...kafkaConnection(config, sources, 'for --to-topic'),
      clientId: 'keel-replay',
    });
  }
  const { mkdirSync } = await import('node:fs');
  const { createEmbeddedTransport } = await import('../transport/embedded/index.ts');
  mkdirSync(config.dataDir, { recursive: true });
  return createEmbeddedTransport({ path: `${config.dataDir}/keel.db`, synchronous: config.sync });
}

/** One NDJSON line of a replayed event: the store's fields and the CloudEvent (binary data as base64). */
function eventLine(stored: StoredEvent): string {
  const { event } = stored;
  const data =
    event.data instanceof Uint8Array
      ? { data: undefined, data_base64: Buffer.from(event.data).toString('base64') }
      : {};
  return `${JSON.stringify({
    position: String(stored.position),
    streamId: stored.streamId,
    version: stored.version,
    tenantId: stored.tenantId,
    recordedAt: stored.recordedAt.toISOString(),
    event: { ...event, ...data },
  })}\n`;
}

/** Runs `keel replay`; resolves with the exit code (0 done, 1 failure or stopped, 2 bad configuration or flags). */
export async function runReplay(flags: ReplayFlags, io: ReplayIo): Promise<number> {
  let store: EventStore | undefined;
  let transport: Transport | undefined;
  try {
    const plan = parseFlags(flags);
    const opened = await openStore(flags);
    store = opened.store;
    const { replay } = await import('../store/replay/replay.ts');
    const common = {
      store,
      filter: plan.filter,
      ratePerSecond: plan.rate,
      batchSize: plan.batchSize,
      signal: io.signal,
    };
    if (flags.dryRun) {
      const report = await replay({ ...common, dryRun: true });
      io.stdout.write(`${report.total} events match\n`);
      return 0;
    }
    let report: ReplayReport;
    if (flags.toTopic !== undefined) {
      transport = await openTransport(opened.config);
      if ((await transport.describeTopic(flags.toTopic)) === undefined) {
        throw new ConfigError([
          {
            key: '--to-topic',
            message: `topic "${flags.toTopic}" does not exist on the ${transport.name} transport`,
          },
        ]);
      }
      report = await replay({
        ...common,
        transport,
        topic: flags.toTopic,
        onProgress: progressReporter(io.stderr, `replay to ${flags.toTopic}`),
      });
    } else {
      report = await replay({
        ...common,
        handler: (event) => void io.stdout.write(eventLine(event)),
        onProgress: progressReporter(io.stderr, 'replay'),
      });
    }
    const seconds = (report.durationMs / 1000).toFixed(1);
    const where = flags.toTopic === undefined ? 'to stdout' : `to topic ${flags.toTopic}`;
    if (report.aborted) {
      io.stderr.write(`keel: replay stopped after ${report.processed} of ${report.total} events ${where}\n`);
      return EXIT_FAILURE;
    }
    io.stderr.write(`replayed ${report.processed} events ${where} in ${seconds} s\n`);
    return 0;
  } catch (error) {
    const code = reportFailure(error, io.stderr, 'replay');
    return code === EXIT_CONFIG ? EXIT_CONFIG : EXIT_FAILURE;
  } finally {
    await transport?.close().catch(() => {});
    await store?.close().catch(() => {});
  }
}
