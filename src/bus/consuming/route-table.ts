import { parseOptions } from '../../errors/options.ts';
import type { EventDefinition } from '../../events/define-event.ts';
import { compose, type HandlerFunction } from '../middleware/middleware.ts';
import type { BatchHandler, BatchOptions, Handler, HandlerOptions } from '../router-port.ts';
import { callWithBatch, createBatchRoute } from './batch-route.ts';
import { type ChainSettings, handlerChain } from './handler-chain.ts';
import { createSingleRoute, type Route, type RouteDeps } from './route.ts';
import { batchOptionsSchema } from './router-options.ts';

/** The routes of a router by event type, and how handlers are registered into them. */
export interface RouteTable {
  readonly routes: ReadonlyMap<string, Route>;
  /** Registers the handler of one event type, inside its middleware chain. */
  addHandler(definition: EventDefinition, handler: Handler<never>, options: HandlerOptions): void;
  /** Registers a batch handler of one event type, inside its middleware chain. */
  addBatchHandler(definition: EventDefinition, handler: BatchHandler<never>, options: BatchOptions): void;
  /** Handler name of an event type whose route keeps order per key (`ordering: 'key'`), else undefined. */
  orderedHandler(type: string): string | undefined;
}

/** What the route table needs: the routes' shared pieces, the chain settings, and whether it still takes handlers. */
export interface RouteTableOptions {
  deps: RouteDeps;
  chain: ChainSettings;
  /** Throws when the type has no topic in the catalog. */
  checkRouted: (type: string) => void;
  /** False once the router started: handlers must be registered before. */
  isOpen: () => boolean;
  /** Validate event data before handling. */
  validate: boolean;
}

/** Creates the route table of a router (one handler per event type). */
export function createRouteTable(options: RouteTableOptions): RouteTable {
  const { deps, chain } = options;
  const { group } = deps;
  const routes = new Map<string, Route>();
  const ordered = new Map<string, string>();

  const register = (definition: EventDefinition, handlerOptions: HandlerOptions) => {
    if (!options.isOpen()) throw new Error(`router "${group}": handlers must be registered before start()`);
    if (routes.has(definition.type)) {
      throw new Error(`router "${group}": a handler for "${definition.type}" is already registered`);
    }
    options.checkRouted(definition.type);
    const ordering = handlerOptions.ordering ?? 'key';
    if (ordering !== 'key' && ordering !== 'none') {
      throw new Error(`router "${group}": ordering of "${definition.type}" must be 'key' or 'none'`);
    }
    const name = handlerOptions.name ?? `${group}:${definition.type}`;
    if (ordering === 'key') ordered.set(definition.type, name);
    return name;
  };

  return {
    routes,
    orderedHandler: (type) => ordered.get(type),
    addHandler(definition, handler, handlerOptions) {
      const name = register(definition, handlerOptions);
      const { layers, breaker } = handlerChain(chain, definition, name, handlerOptions, 'single');
      const run = compose(layers, handler as HandlerFunction);
      routes.set(definition.type, createSingleRoute(deps, definition, name, run, breaker));
    },
    addBatchHandler(definition, handler, batchOptions) {
      const name = register(definition, batchOptions);
      const batching = parseOptions(batchOptionsSchema, batchOptions, 'onBatch');
      const { layers, breaker } = handlerChain(chain, definition, name, batchOptions, 'batch');
      const run = compose(layers, callWithBatch(handler as BatchHandler));
      const settings = { ...batching, validate: options.validate };
      routes.set(definition.type, createBatchRoute(deps, definition, name, run, breaker, settings));
    },
  };
}
