import type { FastifyInstance } from 'fastify';
import type { Catalog } from '../../events/catalog.ts';
import { describeCatalog } from '../describe-catalog.ts';

/** Registers `GET /v1/catalog` (event types and topics) and `GET /v1/catalog/schemas` (JSON Schema of each type's data). */
export function registerCatalogRoutes(app: FastifyInstance, catalog: Catalog): void {
  const view = describeCatalog(catalog);
  const schemas = catalog.jsonSchemas();
  app.get('/v1/catalog', async () => view);
  app.get('/v1/catalog/schemas', async () => ({ schemas }));
}
