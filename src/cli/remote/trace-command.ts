import type { Command } from 'commander';
import { print } from './output.ts';
import { type RemoteFlags, remoteOptions, runRemote } from './remote-command.ts';
import { CliUsageError } from './usage-error.ts';

interface TracedEvent {
  id: string;
  type: string;
  time: string | null;
  depth: number;
  children: string[];
  topics: Array<{ topic: string; partition: number; offset?: string; handledBy?: string[] }>;
  store: Array<{ streamId: string; version: number }>;
}
interface TraceView {
  correlationId: string;
  roots: string[];
  events: TracedEvent[];
  scanned: number;
  complete: boolean;
}

/** The causation tree as indented lines: each event, where it is, and who handled it. */
export function traceText(trace: TraceView): string {
  const byId = new Map(trace.events.map((event) => [event.id, event]));
  const lines = [
    `correlation ${trace.correlationId}${trace.complete ? '' : ' (incomplete: a scan bound was reached)'}`,
  ];
  const seen = new Set<string>();
  const walk = (id: string, indent: string) => {
    const event = byId.get(id);
    if (event === undefined || seen.has(id)) return;
    seen.add(id);
    const where = [
      ...event.topics.map(
        (t) =>
          `${t.topic}[${t.partition}]${t.offset !== undefined ? `@${t.offset}` : ''}${t.handledBy?.length ? ` handled by ${t.handledBy.join(', ')}` : ''}`,
      ),
      ...event.store.map((s) => `stream ${s.streamId} v${s.version}`),
    ].join('; ');
    lines.push(`${indent}${event.type}  ${event.id}  ${event.time ?? '-'}${where ? `  (${where})` : ''}`);
    for (const child of event.children) walk(child, `${indent}  `);
  };
  for (const root of trace.roots) walk(root, '');
  return `${lines.join('\n')}\n`;
}

/** Adds `keel trace <event-id>` (or `--correlation-id`). */
export function registerTraceCommand(program: Command): void {
  remoteOptions(
    program
      .command('trace [eventId]')
      .description(
        'everything with the same correlation id, across topics and the event store, as a causation tree',
      )
      .option('--correlation-id <id>', 'trace a correlation id instead of an event')
      .option('--max-scan <n>', 'most records to look at per topic'),
  ).action((eventId: string | undefined, flags: RemoteFlags & { correlationId?: string; maxScan?: string }) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      if ((eventId === undefined) === (flags.correlationId === undefined)) {
        throw new CliUsageError('name an event id, or pass --correlation-id');
      }
      const trace =
        eventId === undefined
          ? await client.json<TraceView>('GET', '/v1/trace', {
              query: { correlationId: flags.correlationId, maxScan: flags.maxScan },
            })
          : await client.json<TraceView>('GET', `/v1/trace/${encodeURIComponent(eventId)}`, {
              query: { maxScan: flags.maxScan },
            });
      print(stdout, format, trace, () => traceText(trace));
      return undefined;
    }),
  );
}
