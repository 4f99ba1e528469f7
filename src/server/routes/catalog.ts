import { z } from 'zod';
import type { Catalog } from '../../events/catalog.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
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

/** Registers `GET /v1/catalog` (event types and topics) and `GET /v1/catalog/schemas` (JSON Schema of each type's data). */
export function registerCatalogRoutes(api: ApiRegistry, catalog: Catalog): void {
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
}
