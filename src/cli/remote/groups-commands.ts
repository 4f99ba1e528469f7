import type { Command } from 'commander';
import { formatFields, formatTable, print } from './output.ts';
import { type RemoteFlags, remoteOptions, runRemote } from './remote-command.ts';
import { CliUsageError } from './usage-error.ts';

interface PartitionLag {
  topic: string;
  partition: number;
  committed: string | null;
  latest: string;
  lag: string;
}
interface GroupView {
  group: string;
  state: string;
  live: boolean;
  members: number;
  topics: string[];
  lag: { total: string; partitions: PartitionLag[] };
}
interface ResetAnswer {
  dryRun: boolean;
  applied: boolean;
  live: boolean;
  changes: Array<{ partition: number; from: string | null; to: string; lagBefore: string; lagAfter: string }>;
}
const path = (...parts: string[]) => `/v1/${parts.map(encodeURIComponent).join('/')}`;

/** `earliest`, `latest`, an offset or an ISO time, as the reset body's `to`. */
export function resetTarget(to: string): 'earliest' | 'latest' | { offset: string } | { time: string } {
  if (to === 'earliest' || to === 'latest') return to;
  if (/^\d+$/.test(to)) return { offset: to };
  if (!Number.isNaN(Date.parse(to))) return { time: new Date(to).toISOString() };
  throw new CliUsageError(`--to ${to}: expected earliest, latest, an offset or an ISO time`);
}

/** Adds `keel groups list|lag|reset`. */
export function registerGroupsCommands(program: Command): void {
  const groups = program
    .command('groups')
    .description('consumer groups of a running node: state, lag, offset resets');
  remoteOptions(
    groups.command('list').description('every consumer group with its state, members and total lag'),
  ).action((flags: RemoteFlags) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const page = await client.json<{ items: GroupView[] }>('GET', '/v1/groups', { query: { limit: 500 } });
      print(stdout, format, page.items, () =>
        formatTable(
          page.items,
          [
            { header: 'group', value: (g) => g.group },
            { header: 'state', value: (g) => g.state },
            { header: 'members', value: (g) => g.members, numeric: true },
            { header: 'lag', value: (g) => g.lag.total, numeric: true },
            { header: 'topics', value: (g) => g.topics.join(',') },
          ],
          'no consumer groups yet: they appear once a Router has consumed',
        ),
      );
      return undefined;
    }),
  );
  remoteOptions(groups.command('lag <group>').description("a group's lag per partition and in total")).action(
    (group: string, flags: RemoteFlags) =>
      runRemote(flags, async ({ client, format, stdout }) => {
        const view = await client.json<GroupView>('GET', path('groups', group));
        print(
          stdout,
          format,
          view,
          () =>
            `${formatFields([
              ['group', view.group],
              ['state', `${view.state}${view.live ? ' (live)' : ''}`],
              ['members', view.members],
              ['total lag', view.lag.total],
            ])}\n${formatTable(
              view.lag.partitions,
              [
                { header: 'topic', value: (p) => p.topic },
                { header: 'partition', value: (p) => p.partition, numeric: true },
                { header: 'committed', value: (p) => p.committed, numeric: true },
                { header: 'latest', value: (p) => p.latest, numeric: true },
                { header: 'lag', value: (p) => p.lag, numeric: true },
              ],
              'no committed offsets',
            )}`,
        );
        return undefined;
      }),
  );
  remoteOptions(
    groups
      .command('reset <group>')
      .description("move a group's committed offsets on a topic (refused while the group is live)")
      .requiredOption('--topic <topic>', 'topic whose offsets move')
      .requiredOption('--to <target>', 'earliest | latest | <offset> | <ISO time>')
      .option('--partitions <list>', 'comma-separated partitions (default: all)')
      .option('--dry-run', 'show the change without making it'),
  ).action(
    (
      group: string,
      flags: RemoteFlags & { topic: string; to: string; partitions?: string; dryRun?: boolean },
    ) =>
      runRemote(flags, async ({ client, format, stdout }) => {
        const body = {
          topic: flags.topic,
          to: resetTarget(flags.to),
          dryRun: flags.dryRun === true,
          ...(flags.partitions ? { partitions: flags.partitions.split(',').map(Number) } : {}),
        };
        const answer = await client.json<ResetAnswer>('POST', path('groups', group, 'reset'), { body });
        print(
          stdout,
          format,
          answer,
          () =>
            `${answer.dryRun ? `dry run${answer.live ? ' (the group is live: a real reset would be refused)' : ''}` : 'offsets moved'}\n${formatTable(
              answer.changes,
              [
                { header: 'partition', value: (c) => c.partition, numeric: true },
                { header: 'from', value: (c) => c.from, numeric: true },
                { header: 'to', value: (c) => c.to, numeric: true },
                { header: 'lag before', value: (c) => c.lagBefore, numeric: true },
                { header: 'lag after', value: (c) => c.lagAfter, numeric: true },
              ],
              'nothing to move',
            )}`,
        );
        return undefined;
      }),
  );
}
