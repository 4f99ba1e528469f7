import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Catalog, createCatalog } from '../events/catalog.ts';
import { defineTopic, type TopicDefinition } from '../events/define-topic.ts';
import { ConfigError } from './config-error.ts';
import { displayPath } from './load-config.ts';

/**
 * The catalog `keel start` loads when none is configured: the healthcare domain pack,
 * `domains/healthcare/catalog.ts` beside the sources, or its build `dist/domains/healthcare/catalog.js` beside
 * the built `dist/src` (the build mirrors the tree).
 */
export const DEFAULT_CATALOG_PATH = fileURLToPath(
  new URL(
    `../../domains/healthcare/catalog${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
    import.meta.url,
  ),
);

/**
 * The two-event example catalog, `examples/catalog.ts` (or its build): the smallest catalog module of one's
 * own, to start from or to load with `KEEL_CATALOG`.
 */
export const EXAMPLE_CATALOG_PATH = fileURLToPath(
  new URL(`../../examples/catalog${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
);

/** Name of the topic that takes events of unknown types when untyped events are allowed. */
export const UNTYPED_TOPIC_NAME = 'keel.untyped';

/** The default topic for events of types not in the catalog (`KEEL_ALLOW_UNTYPED`). */
export const UNTYPED_TOPIC: TopicDefinition = defineTopic({
  name: UNTYPED_TOPIC_NAME,
  partitions: 4,
  events: [],
  description: 'Events of types the catalog does not know, accepted because KEEL_ALLOW_UNTYPED is on.',
});

/** What loading the catalog needs from the configuration. */
export interface LoadCatalogOptions {
  /** Absolute path of the module exporting the catalog; undefined loads the healthcare pack. */
  path?: string | undefined;
  /** Add the `keel.untyped` topic so unknown types are accepted (unless the catalog has its own untyped topic). */
  allowUntyped?: boolean;
  /** How the catalog setting is named in errors, e.g. `KEEL_CATALOG` or `--catalog`; default `KEEL_CATALOG`. */
  key?: string;
  /** Folder paths are shown relative to; default `process.cwd()`. */
  cwd?: string;
}

/** A loaded catalog and how to name it to an operator. */
export interface LoadedCatalog {
  catalog: Catalog;
  /** Absolute path of the module it came from. */
  path: string;
  /** The path as shown to operators (relative to the working directory when inside it). */
  label: string;
  /** Every export of the module: it may also export the node's `workflows` and `projections`. */
  exports: Readonly<Record<string, unknown>>;
}

/** Imports the catalog module (its default export or the named export `catalog`); throws ConfigError naming the setting. */
export async function loadCatalog(options: LoadCatalogOptions = {}): Promise<LoadedCatalog> {
  const path = options.path ?? DEFAULT_CATALOG_PATH;
  const key = options.key ?? 'KEEL_CATALOG';
  const label = displayPath(path, options.cwd);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError([{ key, message: `cannot load the catalog module ${label}: ${reason}` }]);
  }
  const loaded = [module.default, module.catalog].find(isCatalog);
  if (!loaded) {
    throw new ConfigError([
      {
        key,
        message: `${label} exports no catalog: expected a default export or a named export "catalog" made with createCatalog`,
      },
    ]);
  }
  const catalog = options.allowUntyped && !loaded.untypedTopic ? withUntypedTopic(loaded) : loaded;
  return { catalog, path, label, exports: module };
}

/** The same catalog plus the `keel.untyped` topic for events of unknown types. */
export function withUntypedTopic(catalog: Catalog, topic: TopicDefinition = UNTYPED_TOPIC): Catalog {
  return createCatalog({
    topics: catalog.topics.filter((t) => t !== catalog.untypedTopic),
    // Events not on any topic stay listed; those on topics are deduplicated by createCatalog.
    events: catalog.events,
    untypedTopic: topic,
  });
}

// Duck-typed: a Catalog is a plain object, and the module may import Keel from another copy than
// this one (src while the node runs from dist), so no identity check would hold.
function isCatalog(value: unknown): value is Catalog {
  const candidate = value as Partial<Catalog> | null | undefined;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    Array.isArray(candidate.events) &&
    Array.isArray(candidate.topics) &&
    typeof candidate.route === 'function' &&
    typeof candidate.jsonSchemas === 'function'
  );
}
