import type { Command } from 'commander';
import { formatFields, formatTable, print } from './output.ts';
import { type RemoteFlags, remoteOptions, runRemote } from './remote-command.ts';

interface TopicView {
  name: string;
  partitions: number;
  config: {
    retentionMs: number | null;
    retentionBytes: number | null;
    compacted: boolean;
    replication: number | null;
  };
  messages: string;
  bytes: number;
  offsets: Array<{ partition: number; earliest: string; latest: string; bytes: number }>;
  lag: string;
  groups?: Array<{ group: string; lag: string }>;
}

/** Bytes for people: 512 B, 1.5 KiB, 12.0 MiB. */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const retention = (ms: number | null): string => {
  if (ms === null) return 'forever';
  const days = ms / 86_400_000;
  return Number.isInteger(days) ? `${days}d` : `${Math.round(ms / 3_600_000)}h`;
};

/** Adds `keel topics list` and `keel topics describe <topic>` to the `topics` command. */
export function registerTopicsRemoteCommands(topics: Command): void {
  remoteOptions(
    topics
      .command('list')
      .description(
        "a running node's topics: partitions, messages, retention, total lag of the groups on each",
      )
      .option('--prefix <prefix>', 'only topics whose name starts with this'),
  ).action((flags: RemoteFlags & { prefix?: string }) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const page = await client.json<{ items: TopicView[] }>('GET', '/v1/topics', {
        query: { limit: 500, prefix: flags.prefix },
      });
      print(stdout, format, page.items, () =>
        formatTable(
          page.items,
          [
            { header: 'topic', value: (t) => t.name },
            { header: 'partitions', value: (t) => t.partitions, numeric: true },
            { header: 'messages', value: (t) => t.messages, numeric: true },
            { header: 'size', value: (t) => humanBytes(t.bytes), numeric: true },
            { header: 'retention', value: (t) => retention(t.config.retentionMs) },
            { header: 'compacted', value: (t) => (t.config.compacted ? 'yes' : 'no') },
            { header: 'lag', value: (t) => t.lag, numeric: true },
          ],
          'no topics: the catalog declares them (keel catalog)',
        ),
      );
      return undefined;
    }),
  );
  remoteOptions(
    topics.command('describe <topic>').description('one topic: config, offsets per partition, lag per group'),
  ).action((name: string, flags: RemoteFlags) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const topic = await client.json<TopicView>('GET', `/v1/topics/${encodeURIComponent(name)}`);
      print(stdout, format, topic, () =>
        [
          formatFields([
            ['topic', topic.name],
            ['partitions', topic.partitions],
            ['messages', topic.messages],
            ['retention', retention(topic.config.retentionMs)],
            ['compacted', topic.config.compacted ? 'yes' : 'no'],
          ]),
          formatTable(
            topic.offsets,
            [
              { header: 'partition', value: (p) => p.partition, numeric: true },
              { header: 'earliest', value: (p) => p.earliest, numeric: true },
              { header: 'latest', value: (p) => p.latest, numeric: true },
            ],
            'no partitions',
          ),
          formatTable(
            topic.groups ?? [],
            [
              { header: 'group', value: (g) => g.group },
              { header: 'lag', value: (g) => g.lag, numeric: true },
            ],
            'no consumer group reads it',
          ),
        ].join('\n'),
      );
      return undefined;
    }),
  );
}
