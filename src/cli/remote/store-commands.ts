import type { Command } from 'commander';
import { EXIT_INCOMPLETE } from './exit-codes.ts';
import { followJob } from './follow-job.ts';
import { formatFields, formatTable, print } from './output.ts';
import { type RemoteFlags, remoteOptions, runRemote } from './remote-command.ts';

interface StreamSummary {
  streamId: string;
  tenantId: string;
  version: number;
  updatedAt: string;
  deletedAt: string | null;
}
interface StreamView {
  streamId: string;
  version: number;
  snapshots: Array<{ name: string; streamVersion: number; createdAt: string }>;
  items: Array<{
    version: number;
    position: string;
    recordedAt: string;
    event: { type?: string; id?: string };
  }>;
  next: string | null;
}
interface ProjectionView {
  name: string;
  generation: number;
  checkpoint: string | null;
  lag: number;
  status: string;
  rebuildable: boolean;
}

const path = (...parts: string[]) => `/v1/${parts.map(encodeURIComponent).join('/')}`;

/** Adds `keel streams list|show` and `keel projections list|rebuild`. */
export function registerStoreCommands(program: Command): void {
  const streams = program.command('streams').description("a running node's event store streams");
  remoteOptions(
    streams
      .command('list')
      .description('streams in id order')
      .option('--tenant <tenant>', 'one tenant')
      .option('--type <type>', 'streams holding an event of this type')
      .option('--prefix <prefix>', 'ids starting with this'),
  ).action((flags: RemoteFlags & { tenant?: string; type?: string; prefix?: string }) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const page = await client.json<{ items: StreamSummary[] }>('GET', '/v1/store/streams', {
        query: { tenant: flags.tenant, type: flags.type, prefix: flags.prefix, limit: 500 },
      });
      print(stdout, format, page.items, () =>
        formatTable(
          page.items,
          [
            { header: 'stream', value: (s) => s.streamId },
            { header: 'tenant', value: (s) => s.tenantId },
            { header: 'version', value: (s) => s.version, numeric: true },
            { header: 'updated', value: (s) => s.updatedAt },
            { header: 'deleted', value: (s) => s.deletedAt ?? '' },
          ],
          'no streams: events appended to the store show here',
        ),
      );
      return undefined;
    }),
  );
  remoteOptions(
    streams
      .command('show <streamId>')
      .description("one stream's events with versions, and the snapshots in force")
      .option('--newest', 'newest events first'),
  ).action((streamId: string, flags: RemoteFlags & { newest?: boolean }) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const stream = await client.json<StreamView>('GET', path('store', 'streams', streamId), {
        query: { order: flags.newest ? 'newest' : 'oldest', limit: 500 },
      });
      print(stdout, format, stream, () =>
        [
          formatFields([
            ['stream', stream.streamId],
            ['version', stream.version],
            ['snapshots', stream.snapshots.map((s) => `${s.name}@${s.streamVersion}`).join(', ') || 'none'],
          ]),
          formatTable(
            stream.items,
            [
              { header: 'version', value: (e) => e.version, numeric: true },
              { header: 'position', value: (e) => e.position, numeric: true },
              { header: 'recorded', value: (e) => e.recordedAt },
              { header: 'type', value: (e) => e.event.type },
              { header: 'id', value: (e) => e.event.id },
            ],
            'no events',
          ),
        ].join('\n'),
      );
      return undefined;
    }),
  );

  const projections = program.command('projections').description("a running node's projections");
  remoteOptions(projections.command('list').description('projections: checkpoint, lag, status')).action(
    (flags: RemoteFlags) =>
      runRemote(flags, async ({ client, format, stdout }) => {
        const page = await client.json<{ items: ProjectionView[] }>('GET', '/v1/store/projections', {
          query: { limit: 500 },
        });
        print(stdout, format, page.items, () =>
          formatTable(
            page.items,
            [
              { header: 'projection', value: (p) => p.name },
              { header: 'status', value: (p) => p.status },
              { header: 'generation', value: (p) => p.generation, numeric: true },
              { header: 'checkpoint', value: (p) => p.checkpoint, numeric: true },
              { header: 'lag', value: (p) => p.lag, numeric: true },
              { header: 'rebuildable', value: (p) => (p.rebuildable ? 'yes' : 'no') },
            ],
            'no projections run against this store',
          ),
        );
        return undefined;
      }),
  );
  remoteOptions(
    projections
      .command('rebuild <name>')
      .description(
        'rebuild a projection into a shadow table and swap, as a job with a progress bar (Ctrl-C cancels)',
      ),
  ).action((name: string, flags: RemoteFlags) =>
    runRemote(flags, async ({ client, format, stdout, stderr }) => {
      const started = await client.json<{ id: string }>(
        'POST',
        path('store', 'projections', name, 'rebuild'),
      );
      const job = await followJob(client, started.id, stderr);
      print(stdout, format, job, () => `job ${job.id} ${job.status}${job.error ? `: ${job.error}` : ''}\n`);
      return job.status === 'succeeded' ? undefined : EXIT_INCOMPLETE;
    }),
  );
}
