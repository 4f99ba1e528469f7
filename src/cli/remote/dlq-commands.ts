import type { Command } from 'commander';
import { EXIT_INCOMPLETE } from './exit-codes.ts';
import { followJob } from './follow-job.ts';
import { formatTable, print } from './output.ts';
import { type RemoteFlags, remoteOptions, runRemote } from './remote-command.ts';
import { CliUsageError } from './usage-error.ts';

interface DeadLetterView {
  id: string;
  eventId: string | null;
  eventType: string | null;
  status: string;
  failure: {
    errorType: string;
    errorMessage: string;
    attempts: number;
    handler: string;
    lastFailureAt: string | null;
  };
}
interface SummaryView {
  total: number;
  groups: Array<{
    errorType: string;
    handler: string;
    count: number;
    lastSeen: string | null;
    sampleId: string;
    sampleMessage: string;
  }>;
}

const path = (...parts: string[]) => `/v1/${parts.map(encodeURIComponent).join('/')}`;

/** Dead-letter filters shared by `dlq list` and `dlq retry --all`. */
function dlqFilters(command: Command): Command {
  return command
    .option('--event-type <type>', 'event type, exactly')
    .option('--error-type <name>', 'error class name, e.g. ValidationError')
    .option('--handler <name>', 'handler name')
    .option('--source-topic <topic>', 'topic the event was consumed from')
    .option('--since <time>', 'latest failure at or after this ISO time')
    .option('--until <time>', 'latest failure before this ISO time');
}
type DlqFilterFlags = {
  eventType?: string;
  errorType?: string;
  handler?: string;
  sourceTopic?: string;
  since?: string;
  until?: string;
};
const filterOf = (flags: DlqFilterFlags) => ({
  eventType: flags.eventType,
  errorType: flags.errorType,
  handler: flags.handler,
  sourceTopic: flags.sourceTopic,
  since: flags.since,
  until: flags.until,
});

/** Adds `keel dlq list|summary|show|retry|discard`. */
export function registerDlqCommands(program: Command): void {
  const dlq = program.command('dlq').description("a consumer group's dead letters on a running node");
  remoteOptions(
    dlqFilters(dlq.command('list <group>').description("a group's dead letters, oldest first")).option(
      '--status <status>',
      'pending | retried | discarded',
    ),
  ).action((group: string, flags: RemoteFlags & DlqFilterFlags & { status?: string }) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const page = await client.json<{ items: DeadLetterView[] }>(
        'GET',
        path('groups', group, 'dead-letters'),
        {
          query: { ...filterOf(flags), status: flags.status, limit: 500 },
        },
      );
      print(stdout, format, page.items, () =>
        formatTable(
          page.items,
          [
            { header: 'id', value: (d) => d.id },
            { header: 'status', value: (d) => d.status },
            { header: 'type', value: (d) => d.eventType },
            { header: 'error', value: (d) => d.failure.errorType },
            { header: 'handler', value: (d) => d.failure.handler },
            { header: 'attempts', value: (d) => d.failure.attempts, numeric: true },
            { header: 'last failure', value: (d) => d.failure.lastFailureAt },
          ],
          `no dead letters in group ${group}`,
        ),
      );
      return undefined;
    }),
  );
  remoteOptions(
    dlqFilters(dlq.command('summary <group>').description('dead letters grouped by error type and handler')),
  ).action((group: string, flags: RemoteFlags & DlqFilterFlags) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const summary = await client.json<SummaryView>(
        'GET',
        path('groups', group, 'dead-letters', 'summary'),
        {
          query: filterOf(flags),
        },
      );
      print(stdout, format, summary, () =>
        formatTable(
          summary.groups,
          [
            { header: 'count', value: (g) => g.count, numeric: true },
            { header: 'error', value: (g) => g.errorType },
            { header: 'handler', value: (g) => g.handler },
            { header: 'last seen', value: (g) => g.lastSeen },
            { header: 'sample', value: (g) => `${g.sampleId} ${g.sampleMessage.slice(0, 60)}` },
          ],
          `no dead letters in group ${group}`,
        ),
      );
      return undefined;
    }),
  );
  remoteOptions(
    dlq
      .command('show <group> <id>')
      .description('one dead letter: the failure, its stack, the event, the actions taken'),
  ).action((group: string, id: string, flags: RemoteFlags) =>
    runRemote(flags, async ({ client, stdout }) => {
      // Always JSON: the entry is a nested document (stack, headers, event).
      const entry = await client.json<unknown>('GET', path('groups', group, 'dead-letters', id));
      stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
      return undefined;
    }),
  );
  remoteOptions(
    dlqFilters(
      dlq
        .command('retry <group> [id]')
        .description(
          'send a dead letter back to its source topic; --all retries every pending one matching the filters, as a job',
        ),
    )
      .option('--all', 'retry every pending dead letter matching the filters')
      .option(
        '--expected-count <n>',
        'refuse (409) unless exactly this many match: guards against a selection that changed',
      ),
  ).action(
    (
      group: string,
      id: string | undefined,
      flags: RemoteFlags & DlqFilterFlags & { all?: boolean; expectedCount?: string },
    ) =>
      runRemote(flags, async ({ client, format, stdout, stderr }) => {
        if ((id === undefined) === (flags.all !== true))
          throw new CliUsageError('name one dead letter id, or pass --all');
        if (id !== undefined) {
          const answer = await client.json<{ ids: string[] }>(
            'POST',
            path('groups', group, 'dead-letters', id, 'retry'),
          );
          print(stdout, format, answer, () => `retried ${answer.ids.join(', ')}\n`);
          return undefined;
        }
        const started = await client.json<{ id: string }>(
          'POST',
          path('groups', group, 'dead-letters', 'retry'),
          {
            body: {
              ...Object.fromEntries(Object.entries(filterOf(flags)).filter(([, v]) => v !== undefined)),
              ...(flags.expectedCount ? { expectedCount: Number(flags.expectedCount) } : {}),
            },
          },
        );
        const job = await followJob(client, started.id, stderr);
        print(
          stdout,
          format,
          job,
          () =>
            `job ${job.id} ${job.status}: ${
              Object.entries(job.counts ?? {})
                .map(([k, v]) => `${v} ${k}`)
                .join(', ') || 'nothing matched'
            }${job.error ? ` (${job.error})` : ''}\n`,
        );
        return job.status === 'succeeded' ? undefined : EXIT_INCOMPLETE;
      }),
  );
  remoteOptions(
    dlq
      .command('discard <group> <id>')
      .description('discard a dead letter, with a reason')
      .requiredOption('--reason <text>', 'why it is discarded'),
  ).action((group: string, id: string, flags: RemoteFlags & { reason: string }) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const answer = await client.json<{ ids: string[] }>(
        'POST',
        path('groups', group, 'dead-letters', id, 'discard'),
        {
          body: { reason: flags.reason },
        },
      );
      print(stdout, format, answer, () => `discarded ${answer.ids.join(', ')}\n`);
      return undefined;
    }),
  );
}
