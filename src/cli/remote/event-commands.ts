import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { createParser } from 'eventsource-parser';
import { NodeRequestError } from './node-client.ts';
import { formatTable, print } from './output.ts';
import { type RemoteFlags, remoteOptions, runRemote } from './remote-command.ts';
import { CliUsageError } from './usage-error.ts';

/** Events per request of `keel publish`: each request is stored all or nothing. */
export const PUBLISH_CHUNK = 500;

interface Receipt {
  id: string;
  topic: string;
  partition: number;
  offset: string;
  replayed?: boolean;
}

/** Message filters shared by `tail` and `export` (the API's names). */
function messageFilters(command: Command): Command {
  return command
    .option('--type <type>', 'event type')
    .option('--subject <subject>', 'CloudEvents subject')
    .option('--key <key>', 'partition key')
    .option('--correlation-id <id>', 'correlation id')
    .option('--tenant <tenant>', 'tenant id')
    .option('--partition <n>', 'one partition only')
    .option(
      '--where <condition...>',
      'a condition on the event, e.g. data.vitals.heartRate>=120 (repeatable)',
    );
}
type FilterFlags = {
  type?: string;
  subject?: string;
  key?: string;
  correlationId?: string;
  tenant?: string;
  partition?: string;
  where?: string[];
  cel?: string;
};
const filterQuery = (flags: FilterFlags) => ({
  type: flags.type,
  subject: flags.subject,
  key: flags.key,
  correlationId: flags.correlationId,
  tenant: flags.tenant,
  partition: flags.partition,
  where: flags.where,
  cel: flags.cel,
});

/**
 * Reads NDJSON CloudEvents (one structured-mode event per line, blank lines skipped) and checks each
 * parses, naming the line of the first that does not: nothing is sent unless every line is JSON.
 */
export async function readEventLines(input: NodeJS.ReadableStream): Promise<unknown[]> {
  const events: unknown[] = [];
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    line++;
    if (text.trim() === '') continue;
    try {
      events.push(JSON.parse(text));
    } catch (error) {
      throw new CliUsageError(`line ${line}: not JSON (${(error as Error).message}); nothing was published`);
    }
  }
  return events;
}

/** Adds `keel publish`, `keel tail`, `keel export` and `keel import`. */
export function registerEventCommands(program: Command): void {
  registerPublish(program);
  registerTail(program);
  registerTransfer(program);
}

function registerPublish(program: Command): void {
  remoteOptions(
    program
      .command('publish [file]')
      .description(
        `publish CloudEvents from an NDJSON file or stdin (structured mode, one per line), ${PUBLISH_CHUNK} per request, each request all or nothing`,
      ),
  ).action((file: string | undefined, flags: RemoteFlags) =>
    runRemote(flags, async ({ client, format, stdout, stderr }) => {
      const events = await readEventLines(
        file === undefined || file === '-' ? process.stdin : createReadStream(file),
      );
      const receipts: Receipt[] = [];
      for (let from = 0; from < events.length; from += PUBLISH_CHUNK) {
        const chunk = events.slice(from, from + PUBLISH_CHUNK);
        try {
          const answer = await client.json<{ events: Receipt[] }>('POST', '/v1/events', {
            body: chunk,
            contentType: 'application/cloudevents-batch+json',
          });
          receipts.push(...answer.events);
        } catch (error) {
          // Indexes in the node's answer count from the first event of the refused request.
          if (from > 0 && error instanceof NodeRequestError) {
            stderr.write(
              `keel: events 1-${from} were published; from event ${from + 1} on, nothing (indexes below count from it)\n`,
            );
          }
          throw error;
        }
        if (events.length > PUBLISH_CHUNK) stderr.write(`published ${receipts.length}/${events.length}\n`);
      }
      print(stdout, format, receipts, () =>
        formatTable(
          receipts,
          [
            { header: 'id', value: (r) => r.id },
            { header: 'topic', value: (r) => r.topic },
            { header: 'partition', value: (r) => r.partition, numeric: true },
            { header: 'offset', value: (r) => r.offset, numeric: true },
            { header: 'replayed', value: (r) => (r.replayed ? 'yes' : '') },
          ],
          'nothing to publish: the input had no events',
        ),
      );
      return undefined;
    }),
  );
}

function registerTail(program: Command): void {
  remoteOptions(
    messageFilters(
      program
        .command('tail <topic>')
        .description('follow a topic live: each new matching event as it is stored (Ctrl-C stops)')
        .option('--from <where>', 'now (default) or earliest')
        .option('--limit <n>', 'stop after this many events'),
    ),
  ).action((topic: string, flags: RemoteFlags & FilterFlags & { from?: string; limit?: string }) =>
    runRemote(flags, async ({ client, format, stdout, stderr }) => {
      const limit = flags.limit === undefined ? Number.POSITIVE_INFINITY : Number(flags.limit);
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      const response = await client.open('GET', `/v1/topics/${encodeURIComponent(topic)}/live`, {
        query: { ...filterQuery(flags), from: flags.from },
        accept: 'text/event-stream',
        signal: controller.signal,
      });
      // On stderr, so scripts reading stdout see events only.
      stderr.write(
        `following ${topic}${flags.from === 'earliest' ? ' from its earliest offset' : ''} (Ctrl-C stops)\n`,
      );
      let seen = 0;
      const parser = createParser({
        onEvent: (message) => {
          if (seen >= limit) return;
          seen++;
          if (format === 'json') stdout.write(`${message.data}\n`);
          else stdout.write(tailLine(message.id, JSON.parse(message.data) as TailedMessage));
          if (seen >= limit) controller.abort();
        },
      });
      try {
        for await (const chunk of Readable.fromWeb(response.body as never)) parser.feed(String(chunk));
      } catch (error) {
        if ((error as Error).name !== 'AbortError') throw error;
      }
      return undefined;
    }),
  );
}

/** Flags of `keel export`. */
type ExportFlags = {
  store?: boolean;
  streamPrefix?: string;
  format?: string;
  since?: string;
  until?: string;
  limit?: string;
  out?: string;
};

function exportPath(topic: string | undefined): string {
  return topic === undefined ? '/v1/store/export' : `/v1/topics/${encodeURIComponent(topic)}/export`;
}

function topicExportQuery(flags: FilterFlags & ExportFlags) {
  const { format, since, until, limit } = flags;
  return { ...filterQuery(flags), format, since, until, limit };
}

/** The store export takes the store's filters: type, tenant, correlation id, stream prefix, time range. */
function storeExportQuery(flags: FilterFlags & ExportFlags) {
  return {
    format: flags.format,
    type: flags.type,
    tenant: flags.tenant,
    correlationId: flags.correlationId,
    streamPrefix: flags.streamPrefix,
    since: flags.since,
    until: flags.until,
  };
}

function registerTransfer(program: Command): void {
  remoteOptions(
    messageFilters(
      program
        .command('export [topic]')
        .description(
          "stream a topic's messages as NDJSON (importable) or CSV, or with --store the event store's events as NDJSON, CSV or Parquet, to a file or stdout",
        )
        .option('--store', 'export stored events (the event store) instead of a topic')
        .option('--stream-prefix <prefix>', 'with --store: streams whose id starts with this text')
        .option('--format <format>', 'ndjson (default) or csv; parquet with --store')
        .option('--since <time>', 'events at or after this ISO time')
        .option('--until <time>', 'events before this ISO time')
        .option('--limit <n>', 'at most this many events')
        .option('--out <file>', 'write to this file instead of stdout'),
    ),
  ).action((topic: string | undefined, flags: RemoteFlags & FilterFlags & ExportFlags) =>
    runRemote(flags, async ({ client, stderr }) => {
      if ((topic === undefined) !== (flags.store === true)) {
        throw new CliUsageError('name a topic, or pass --store to export the event store');
      }
      const response = await client.open('GET', exportPath(topic), {
        query: topic === undefined ? storeExportQuery(flags) : topicExportQuery(flags),
        accept: '*/*',
      });
      const target = flags.out ? createWriteStream(flags.out) : process.stdout;
      await pipeline(Readable.fromWeb(response.body as never), target, { end: flags.out !== undefined });
      if (flags.out) stderr.write(`exported to ${flags.out}\n`);
      return undefined;
    }),
  );

  remoteOptions(
    program
      .command('import <topic> <file>')
      .description(
        'import an NDJSON export into a topic: every line checked, all or nothing; importing a file twice stores it once',
      ),
  ).action((topic: string, file: string, flags: RemoteFlags) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const answer = await client.json<Record<string, unknown>>(
        'POST',
        `/v1/topics/${encodeURIComponent(topic)}/import`,
        {
          body: readFileSync(file, 'utf8'),
          contentType: 'application/x-ndjson',
        },
      );
      print(
        stdout,
        format,
        answer,
        () =>
          `${Object.entries(answer)
            .filter(([, v]) => typeof v === 'number')
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ')}\n`,
      );
      return undefined;
    }),
  );
}

/** A live-tailed message as the node sends it. */
interface TailedMessage {
  partition: number;
  offset: string;
  event?: { id?: string; type?: string; time?: string; subject?: string };
  key?: string | null;
}

/** One line per tailed event for people: where, when, what, whose. */
function tailLine(id: string | undefined, message: TailedMessage): string {
  const event = message.event ?? {};
  return `${(id ?? `${message.partition}:${message.offset}`).padEnd(10)} ${event.time ?? '-'}  ${event.type ?? '-'}  ${event.subject ?? message.key ?? '-'}  ${event.id ?? ''}\n`;
}
