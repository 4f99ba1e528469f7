import { type Logger, pino } from 'pino';
import { loadCatalog } from '../config/load-catalog.ts';
import type { ConfigFlags } from '../config/load-config.ts';
import { describeKey, loadConfig } from '../config/load-config.ts';
import { type OtlpTracing, otlpConfigured, startOtlpTracing } from '../observability/otlp.ts';
import { createNode, type KeelNode } from '../server/node.ts';
import { nodeDefinitionsOf } from '../server/node-definitions.ts';
import { EXIT_FAILURE, reportFailure } from './fail.ts';
import { createGatedStream } from './gated-stream.ts';

/** Milliseconds a graceful shutdown may take before the process exits anyway. */
export const SHUTDOWN_DEADLINE_MS = 15_000;

/**
 * The first line `keel start` prints: where the node listens and where its events go — the data file on
 * the embedded transport, the bootstrap brokers on Kafka (the data file holds no bus events there).
 */
export function startupLine(
  node: Pick<KeelNode, 'url' | 'dataFile' | 'transport'>,
  catalogLabel: string,
  kafkaBrokers: readonly string[] = [],
): string {
  const where =
    node.transport.name === 'kafka' ? `brokers ${kafkaBrokers.join(',')}` : `data ${node.dataFile}`;
  return `keel listening on ${node.url} (transport ${node.transport.name}, ${where}, catalog ${catalogLabel})`;
}

/**
 * `keel start`: loads the configuration and the catalog, starts the node, prints the startup line,
 * then logs; exits 0 after a graceful shutdown on SIGTERM or SIGINT, 2 on a configuration error.
 */
export async function runStart(flags: ConfigFlags): Promise<void> {
  // Nothing may reach stdout before the startup line, so logs are held until it is printed.
  const gate = createGatedStream(process.stdout);
  let logger: Logger | undefined;
  let node: KeelNode | undefined;
  let tracing: OtlpTracing | undefined;
  let stopping = false;
  // Closes the node, then exports the spans still buffered.
  const close = async () => {
    await node?.close();
    await tracing?.shutdown();
  };

  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger?.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    logger?.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger?.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown took too long; exiting');
      process.exit(EXIT_FAILURE);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    close().then(
      () => {
        logger?.info('stopped');
        gate.open();
        process.exit(0);
      },
      (error: unknown) => {
        logger?.error({ err: error }, 'shutdown failed');
        gate.open();
        process.exit(EXIT_FAILURE);
      },
    );
  };
  // Installed before anything starts: a client may signal as soon as it reads the startup line,
  // and a signal with no handler would kill the process instead of shutting it down.
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  const fail = async (error: unknown, doing: string): Promise<void> => {
    if (stopping) return; // a signal interrupted the start; the shutdown ends the process
    const code = reportFailure(error, process.stderr, doing);
    gate.open();
    await close().catch(() => undefined);
    process.exit(code);
  };

  let loaded: Awaited<ReturnType<typeof loadConfig>>;
  try {
    loaded = await loadConfig({ flags });
  } catch (error) {
    return fail(error, 'cannot load the configuration');
  }
  const { config, sources } = loaded;
  logger = pino({ name: 'keel', level: config.logLevel }, gate);
  // The OpenTelemetry SDK's own variables name the collector: set, the node's spans are exported over OTLP.
  if (otlpConfigured()) {
    tracing = startOtlpTracing();
    logger.info(
      { endpoint: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT },
      'exporting traces over OTLP',
    );
  }

  try {
    const key = describeKey('catalog', sources.catalog);
    const { catalog, label, exports } = await loadCatalog({
      path: config.catalog,
      allowUntyped: config.allowUntyped,
      key,
    });
    if (stopping) return;
    const { workflows, projections, ingestors, reports } = nodeDefinitionsOf(exports, label, key);
    node = createNode({ config, catalog, logger, sources, workflows, projections, ingestors, reports });
    await node.start();
    if (stopping) return;
    process.stdout.write(`${startupLine(node, label, config.kafkaBrokers)}\n`);
    gate.open();
    for (const warning of loaded.warnings) logger.warn(warning);
  } catch (error) {
    return fail(error, 'cannot start');
  }
}
