import { z } from 'zod';
import type { Catalog } from '../../events/catalog.ts';
import type { EventStore } from '../../store/event-store.ts';
import { createAsyncProjection } from '../../store/projections/async-projection.ts';
import type { ProjectionDefinition } from '../../store/projections/projection.ts';
import { listProjectionStates, type NamedProjectionState } from '../../store/projections/sql/checkpoints.ts';
import { replay } from '../../store/replay/replay.ts';
import type { EventPublisher } from '../../store/topic-sink.ts';
import type { Transport } from '../../transport/transport.ts';
import { actorOf } from '../api/actor.ts';
import { RequestInvalidError, ResourceConflictError, ResourceNotFoundError } from '../api/errors.ts';
import { cursorParam, limitParam, pageOfList, pageSchema } from '../api/pagination.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import type { JobRegistry } from '../jobs/job-registry.ts';
import { jobSchema } from './jobs.ts';
import { storeEventFilterFields, storeFilterOf } from './store.ts';

/** What the projection and replay routes use. */
export interface StoreJobRoutesOptions {
  store: EventStore;
  jobs: JobRegistry;
  /** Projections this node can rebuild (it holds their definitions), by name. */
  projections: ReadonlyMap<string, ProjectionDefinition>;
  transport: Transport;
  catalog: Catalog;
  /** Republishes replayed events with catalog routing when no topic is named. */
  publisher: EventPublisher;
}

const projectionSchema = z.object({
  name: z.string(),
  scope: z.string().describe('`*` for the whole store, else the tenant whose events it reads.'),
  generation: z.int().describe('Generation of the live table the view reads.'),
  checkpoint: z.string().nullable().describe('Where the live table is up to; null before the first event.'),
  lag: z
    .int()
    .describe('Events stored after its checkpoint (of its types when this node holds its definition).'),
  status: z
    .enum(['caught-up', 'behind', 'rebuilding'])
    .describe('`rebuilding` while a rebuild fills a shadow table; otherwise by its lag.'),
  rebuild: z
    .object({ generation: z.int(), checkpoint: z.string().nullable() })
    .nullable()
    .describe('The rebuild in progress, or null.'),
  updatedAt: z.iso.datetime().describe('When its checkpoint (or a rebuild) last moved.'),
  rebuildable: z.boolean().describe('This node holds its definition, so it can rebuild it.'),
});

/** A projection's row with its lag, as the API shows it. */
export async function projectionView(
  store: EventStore,
  state: NamedProjectionState,
  definition: ProjectionDefinition | undefined,
): Promise<z.input<typeof projectionSchema>> {
  const lag = await store.countEvents({
    ...(state.checkpoint === null ? {} : { after: state.checkpoint }),
    ...(definition?.types === undefined ? {} : { types: definition.types }),
    ...(state.scope === '*' ? {} : { tenantId: state.scope }),
  });
  return {
    name: state.name,
    scope: state.scope,
    generation: state.generation,
    checkpoint: state.checkpoint,
    lag,
    status: state.rebuildGeneration !== null ? 'rebuilding' : lag === 0 ? 'caught-up' : 'behind',
    rebuild:
      state.rebuildGeneration === null
        ? null
        : { generation: state.rebuildGeneration, checkpoint: state.rebuildCheckpoint },
    updatedAt: new Date(state.updatedAt).toISOString(),
    rebuildable: definition !== undefined,
  };
}

const nameParam = z.strictObject({ name: z.string().min(1).describe('Projection name.') });

/** Registers projections (list, one, rebuild as a job) and replay jobs. */
export function registerStoreJobRoutes(api: ApiRegistry, options: StoreJobRoutesOptions): void {
  registerProjectionRoutes(api, options);
  registerReplayRoute(api, options);
}

function registerProjectionRoutes(api: ApiRegistry, options: StoreJobRoutesOptions): void {
  const { store, projections, jobs } = options;
  const states = () => store.transaction((transaction) => listProjectionStates(transaction));
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/store/projections',
      operationId: 'listProjections',
      summary: 'Async projections run against the store: checkpoint, lag and status',
      tag: 'store',
      query: z.strictObject({ limit: limitParam(), cursor: cursorParam }),
      answer: pageSchema(projectionSchema),
      handler: async ({ query }) => {
        const page = pageOfList(await states(), (state) => `${state.name}\u0000${state.scope}`, query);
        const items = [];
        for (const state of page.items)
          items.push(await projectionView(store, state, projections.get(state.name)));
        return { items, next: page.next };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/store/projections/:name',
      operationId: 'getProjection',
      summary: "One projection's checkpoint, lag and status",
      tag: 'store',
      params: nameParam,
      answer: projectionSchema,
      problems: [404],
      handler: async ({ params }) => {
        const state = (await states()).find((s) => s.name === params.name);
        if (state === undefined) throw new ResourceNotFoundError('projection', params.name, 'params.name');
        return projectionView(store, state, projections.get(params.name));
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/store/projections/:name/rebuild',
      operationId: 'rebuildProjection',
      summary: 'Rebuild a projection from the first event into a shadow table, as a job with progress',
      description:
        'Readers keep reading the live table until the rebuild swaps the view to the new one in one ' +
        'transaction. Only projections whose definition this node holds can be rebuilt here (409 otherwise). ' +
        'Cancelling the job stops the rebuild after the batch in flight and drops its shadow table: readers ' +
        'keep the live table, as if it had not started.',
      tag: 'store',
      params: nameParam,
      answer: jobSchema,
      status: 202,
      problems: [404, 409],
      handler: async ({ params, request }) => {
        const definition = projections.get(params.name);
        if (definition === undefined) {
          const known = (await states()).some((s) => s.name === params.name);
          if (!known) throw new ResourceNotFoundError('projection', params.name, 'params.name');
          throw new ResourceConflictError(
            `this node holds no definition of projection "${params.name}": rebuild it where it runs`,
            'params.name',
          );
        }
        return jobs.start({
          kind: 'projections.rebuild',
          params: { projection: params.name },
          actor: actorOf(request),
          run: async (context) => {
            const report = await createAsyncProjection({ store, projection: definition }).rebuild({
              onProgress: ({ processed, total }) => context.progress(processed, total),
              signal: context.signal,
            });
            context.count('applied', report.processed);
          },
        });
      },
    }),
  );
}

function registerReplayRoute(api: ApiRegistry, options: StoreJobRoutesOptions): void {
  const { store, jobs, transport, catalog, publisher } = options;
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/store/replays',
      operationId: 'startReplay',
      summary: 'Replay stored events onto the bus, as a job: a selection, a dry run, progress, cancel',
      description:
        'Takes exactly the events that match when it starts, in global order. Without `toTopic` each ' +
        'event goes to its catalog topic; with it, to that topic. `dryRun` only counts (`counts.matched`). ' +
        'Cancel with `POST /v1/jobs/:id/cancel`: it stops after the chunk in flight, and `counts.replayed` ' +
        "says how many went. With `expectedCount` (the dry run's `counts.matched`), a selection that changed " +
        'since is refused with 409 and nothing is replayed.',
      tag: 'store',
      body: z.strictObject({
        ...storeEventFilterFields,
        toTopic: z.string().min(1).optional().describe('Republish to this topic (it must exist).'),
        dryRun: z.boolean().default(false),
        ratePerSecond: z.number().positive().optional().describe('Most events per second; default no limit.'),
        expectedCount: z
          .int()
          .min(0)
          .optional()
          .describe('Events the caller expects to match (from a dry run).'),
      }),
      answer: jobSchema,
      status: 202,
      problems: [409, 422],
      handler: async ({ body, request }) => {
        if (body.toTopic !== undefined && (await transport.describeTopic(body.toTopic)) === undefined) {
          throw new RequestInvalidError(
            [{ path: 'body.toTopic', rule: 'exists', message: `topic "${body.toTopic}" does not exist` }],
            422,
          );
        }
        const { toTopic, dryRun, ratePerSecond, expectedCount, ...selection } = body;
        if (expectedCount !== undefined) {
          const now = await store.countEvents(storeFilterOf(selection));
          if (now !== expectedCount) {
            throw new ResourceConflictError(
              `the selection changed: ${now} stored events match, not ${expectedCount}; nothing was replayed`,
              'body.expectedCount',
            );
          }
        }
        return jobs.start({
          kind: 'store.replay',
          params: body,
          actor: actorOf(request),
          // A tenant-scoped identity's replay is of its tenant (the request hook set the filter).
          tenant: selection.tenant,
          run: async (context) => {
            const report = await replay({
              store,
              filter: storeFilterOf(selection),
              dryRun,
              ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
              ...(toTopic === undefined ? { publisher } : { transport, topic: toTopic, catalog }),
              signal: context.signal,
              onProgress: ({ processed, total }) => context.progress(processed, total),
            });
            context.count('matched', report.total);
            context.count('replayed', report.processed);
          },
        });
      },
    }),
  );
}
