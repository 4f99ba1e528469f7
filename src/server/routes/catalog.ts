import { z } from 'zod';
import type { Catalog } from '../../events/catalog.ts';
import type { GroupAdmin } from '../../transport/group-admin.ts';
import type { Transport } from '../../transport/transport.ts';
import { ResourceNotFoundError } from '../api/errors.ts';
import { cursorParam, limitParam, pageOfList, pageSchema } from '../api/pagination.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import { examplePayload } from '../catalog/example-payload.ts';
import { type TypeUsage, typeUsage } from '../catalog/type-usage.ts';
import { describeCatalog } from '../describe-catalog.ts';

const catalogSchema = z.object({
  events: z.array(
    z.object({
      type: z.string(),
      version: z.int(),
      topic: z.string().nullable(),
      description: z.string().nullable(),
    }),
  ),
  topics: z.array(
    z.object({
      name: z.string(),
      partitions: z.int(),
      compacted: z.boolean(),
      retentionMs: z.int().nullable(),
      events: z.array(z.string()),
      description: z.string().nullable(),
    }),
  ),
  untypedTopic: z.string().nullable(),
});

const typeSchema = z.object({
  type: z.string(),
  version: z.int(),
  topic: z.string().nullable(),
  description: z.string().nullable(),
  schema: z.record(z.string(), z.unknown()).describe("JSON Schema (2020-12) of the type's data."),
  example: z
    .unknown()
    .describe('Example data generated from the schema (deterministic); null when none could be.'),
  exampleValid: z.boolean().describe("The type's own schema accepts the example."),
  producers: z
    .array(z.object({ source: z.string(), count: z.int(), lastSeen: z.iso.datetime() }))
    .describe('CloudEvents sources seen among the newest records of its topic, most records first.'),
  consumerGroups: z
    .array(z.string())
    .describe('Consumer groups on its topic (subscribed, or with committed offsets).'),
});

const usageQuery = {
  maxScan: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(10_000)
    .describe('Newest records looked at per topic for the producers seen; default 10 000, 0 looks at none.'),
};

/** What the catalog routes use besides the catalog: the transport (producers seen) and its groups. */
export interface CatalogRoutesOptions {
  transport?: Transport;
  groupAdmin?: GroupAdmin | undefined;
}

/**
 * Registers `GET /v1/catalog` (event types and topics), `GET /v1/catalog/schemas` (JSON Schema of each
 * type's data) and `GET /v1/catalog/types[/:type]` (each type with its schema, an example, producers and groups).
 */
export function registerCatalogRoutes(
  api: ApiRegistry,
  catalog: Catalog,
  options: CatalogRoutesOptions = {},
): void {
  const view = describeCatalog(catalog);
  const schemas = catalog.jsonSchemas();
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/catalog',
      operationId: 'getCatalog',
      summary: 'Event types and the topics they go to',
      tag: 'catalog',
      answer: catalogSchema,
      handler: async () => view,
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/catalog/schemas',
      operationId: 'getCatalogSchemas',
      summary: "JSON Schema of each event type's data",
      tag: 'catalog',
      answer: z.object({ schemas: z.record(z.string(), z.record(z.string(), z.unknown())) }),
      handler: async () => ({ schemas }),
    }),
  );
  const examples = new Map(
    catalog.events.map((event) => [event.type, examplePayload(event, schemas[event.type] ?? {})]),
  );
  const topicOf = new Map(view.events.map((event) => [event.type, event.topic]));
  const usage = async (maxScan: number): Promise<TypeUsage> =>
    options.transport === undefined || maxScan === 0
      ? { producers: new Map(), groupsByTopic: new Map(), scanned: 0 }
      : typeUsage(options.transport, options.groupAdmin, catalog, maxScan);
  const typeView = (event: (typeof view.events)[number], seen: TypeUsage): z.input<typeof typeSchema> => {
    const topic = topicOf.get(event.type) ?? null;
    const example = examples.get(event.type);
    return {
      ...event,
      schema: schemas[event.type] ?? {},
      example: example?.example ?? null,
      exampleValid: example?.valid ?? false,
      producers: (seen.producers.get(event.type) ?? []).map((p) => ({
        ...p,
        lastSeen: new Date(p.lastSeen).toISOString(),
      })),
      consumerGroups: topic === null ? [] : (seen.groupsByTopic.get(topic) ?? []),
    };
  };
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/catalog/types',
      operationId: 'listCatalogTypes',
      summary:
        'Event types with their schema, an example payload, the producers seen and the consumer groups',
      tag: 'catalog',
      query: z.strictObject({ ...usageQuery, limit: limitParam(), cursor: cursorParam }),
      answer: pageSchema(typeSchema),
      handler: async ({ query }) => {
        const page = pageOfList(view.events, (event) => event.type, query);
        const seen = await usage(query.maxScan);
        return { items: page.items.map((event) => typeView(event, seen)), next: page.next };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/catalog/types/:type',
      operationId: 'getCatalogType',
      summary: 'One event type: schema, example payload, producers seen, consumer groups',
      tag: 'catalog',
      params: z.strictObject({ type: z.string().min(1).describe('CloudEvents type.') }),
      query: z.strictObject(usageQuery),
      answer: typeSchema,
      problems: [404],
      handler: async ({ params, query }) => {
        const event = view.events.find((e) => e.type === params.type);
        if (event === undefined) throw new ResourceNotFoundError('event type', params.type, 'params.type');
        return typeView(event, await usage(query.maxScan));
      },
    }),
  );
}
