import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { EventStore } from '../../store/event-store.ts';
import type { ProjectionDefinition } from '../../store/projections/projection.ts';
import { listProjectionStates } from '../../store/projections/sql/checkpoints.ts';
import { projectionView } from '../routes/store-jobs.ts';

/** What the event store's scrape-time gauges read. */
export interface StoreGaugeSources {
  registry: Registry;
  store: EventStore;
  /** Projection definitions the node holds (their event types bound what counts as lag). */
  projections: ReadonlyMap<string, ProjectionDefinition>;
  logger: Logger;
}

/**
 * Registers gauges the node reads from its event store at each scrape: the events stored
 * (`keel_store_events`; its `deriv` is the append rate), and each async projection's lag in events and
 * whether it is being rebuilt. Read from the store, so a projection whose runner stopped keeps showing its
 * growing lag.
 */
export function registerStoreGauges(sources: StoreGaugeSources): void {
  const { registry, store, projections, logger } = sources;
  new Gauge({
    name: 'keel_store_events',
    help: 'Events held by the event store, read by the node at scrape time.',
    registers: [registry],
    async collect() {
      try {
        this.set(await store.countEvents());
      } catch (error) {
        logger.warn({ err: error }, 'cannot count the stored events for /metrics');
      }
    },
  });
  // One read of the projections serves both gauges of a scrape (the registry collects them concurrently).
  let reading: Promise<ProjectionFigures[]> | undefined;
  const read = () => {
    reading ??= readProjections(store, projections).finally(() => {
      reading = undefined;
    });
    return reading;
  };
  const projectionGauge = (name: string, help: string, value: (figures: ProjectionFigures) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['projection', 'scope'],
      registers: [registry],
      async collect() {
        try {
          const figures = await read();
          this.reset();
          for (const f of figures) this.set({ projection: f.name, scope: f.scope }, value(f));
        } catch (error) {
          logger.warn({ err: error }, `cannot read projections for /metrics (${name})`);
        }
      },
    });
  projectionGauge(
    'keel_projection_lag_events',
    "Events stored after an async projection's checkpoint (of its types), read by the node at scrape time.",
    (f) => f.lag,
  );
  projectionGauge(
    'keel_projection_rebuilding',
    'Whether an async projection is being rebuilt into a shadow table (1) or not (0), read at scrape time.',
    (f) => (f.rebuilding ? 1 : 0),
  );
}

/** A projection's figures as the gauges show them. */
interface ProjectionFigures {
  name: string;
  scope: string;
  lag: number;
  rebuilding: boolean;
}

async function readProjections(
  store: EventStore,
  projections: ReadonlyMap<string, ProjectionDefinition>,
): Promise<ProjectionFigures[]> {
  const states = await store.transaction((transaction) => listProjectionStates(transaction));
  const figures: ProjectionFigures[] = [];
  for (const state of states) {
    const view = await projectionView(store, state, projections.get(state.name));
    figures.push({
      name: state.name,
      scope: state.scope,
      lag: view.lag,
      rebuilding: view.status === 'rebuilding',
    });
  }
  return figures;
}
