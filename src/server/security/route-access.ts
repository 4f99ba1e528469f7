import type { Permission } from '../../security/authorization/permissions.ts';

/** What a route needs: a permission, and the path parameter naming the topic it touches (scoped by pattern). */
export interface RouteAccess {
  permission: Permission;
  /** Path parameter holding a topic name, checked against the identity's topic patterns. */
  topicParam?: string;
  /**
   * How the route's answer is kept to the identity's tenants: `query` / `body` — its `tenant` filter is set
   * to the identity's tenant (and another tenant refused); `every` — it reads events of any tenant without
   * such a filter, so only an identity of every tenant may call it; `item` — the handler itself shows only
   * the identity's tenants' items (request-scope.ts): another tenant's item answers 404 like a missing one,
   * and lists leave it out.
   */
  tenant?: 'query' | 'body' | 'every' | 'item';
}

const topic = (permission: Permission, tenant?: RouteAccess['tenant']): RouteAccess => ({
  permission,
  topicParam: 'topic',
  ...(tenant ? { tenant } : {}),
});
const needs = (permission: Permission, tenant?: RouteAccess['tenant']): RouteAccess => ({
  permission,
  ...(tenant ? { tenant } : {}),
});

/**
 * The one place where every route of the node declares what it needs, keyed `METHOD /path` as registered.
 * A route missing here is refused to everyone (deny by default), and a test fails for every operation of the
 * OpenAPI document without an entry. Files of the web console (paths outside `/v1/`, `/metrics`) are public.
 */
export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = {
  'GET /healthz': needs('public'),
  'GET /readyz': needs('public'),
  'GET /v1/openapi.json': needs('public'),
  'GET /v1/docs': needs('public'),
  'GET /v1/docs/assets/:file': needs('public'),
  'GET /metrics': needs('metrics:read'),
  'GET /v1/whoami': needs('authenticated'),

  'POST /v1/events': needs('events:publish'),
  'POST /v1/ingest/:ingestor': needs('events:publish'),
  'POST /v1/topics/:topic/import': topic('events:publish'),

  'GET /v1/catalog': needs('metadata:read'),
  'GET /v1/catalog/schemas': needs('metadata:read'),
  'GET /v1/catalog/types': needs('metadata:read'),
  'GET /v1/catalog/types/:type': needs('metadata:read'),
  'GET /v1/topics': needs('metadata:read'),
  'GET /v1/topics/:topic': topic('metadata:read'),
  'GET /v1/groups': needs('metadata:read'),
  'GET /v1/groups/:group': needs('metadata:read'),
  'GET /v1/jobs': needs('metadata:read', 'item'),
  'GET /v1/jobs/:id': needs('metadata:read', 'item'),
  'GET /v1/figures': needs('metadata:read'),
  'GET /v1/live/figures': needs('metadata:read'),
  'GET /v1/store/projections': needs('metadata:read'),
  'GET /v1/store/projections/:name': needs('metadata:read'),
  'GET /v1/workflows/definitions': needs('metadata:read'),

  'GET /v1/topics/:topic/messages': topic('events:read', 'query'),
  'GET /v1/topics/:topic/partitions/:partition/offsets/:offset': topic('events:read', 'item'),
  'GET /v1/topics/:topic/live': topic('events:read', 'query'),
  'GET /v1/topics/:topic/export': topic('events:read', 'query'),
  'POST /v1/topics/:topic/search': topic('events:read', 'body'),
  'GET /v1/groups/:group/dead-letters': needs('events:read', 'item'),
  'GET /v1/groups/:group/dead-letters/summary': needs('events:read', 'item'),
  'GET /v1/groups/:group/dead-letters/:id': needs('events:read', 'item'),
  'GET /v1/store/streams': needs('events:read', 'query'),
  'GET /v1/store/streams/:streamId': needs('events:read', 'item'),
  'GET /v1/store/events': needs('events:read', 'query'),
  'POST /v1/query': needs('events:read', 'every'),
  'GET /v1/store/export': needs('events:read', 'every'),
  'POST /v1/exports': needs('events:read', 'every'),
  'GET /v1/exports': needs('metadata:read'),
  'GET /v1/reports': needs('metadata:read'),
  'GET /v1/reports/:name/runs': needs('metadata:read'),
  'POST /v1/reports/:name/run': needs('events:read', 'every'),
  'GET /v1/trace': needs('events:read', 'item'),
  'GET /v1/trace/:eventId': needs('events:read', 'item'),
  'GET /v1/workflows/instances': needs('events:read', 'query'),
  'GET /v1/workflows/instances/:instanceId': needs('events:read', 'item'),

  'POST /v1/groups/:group/reset': needs('groups:admin', 'every'),
  'POST /v1/groups/:group/dead-letters/:id/retry': needs('dead-letters:admin', 'every'),
  'POST /v1/groups/:group/dead-letters/:id/discard': needs('dead-letters:admin', 'every'),
  'POST /v1/groups/:group/dead-letters/retry': needs('dead-letters:admin', 'every'),
  'POST /v1/jobs/:id/cancel': needs('jobs:admin', 'item'),
  'POST /v1/store/projections/:name/rebuild': needs('store:admin', 'every'),
  'POST /v1/store/replays': needs('store:admin', 'body'),
  'POST /v1/workflows/instances/:instanceId/signal': needs('workflows:admin', 'every'),
  'POST /v1/workflows/instances/:instanceId/cancel': needs('workflows:admin', 'every'),
  'POST /v1/workflows/instances/:instanceId/retry': needs('workflows:admin', 'every'),

  'GET /v1/audit': needs('audit:read', 'every'),
  'POST /v1/audit/verify': needs('audit:read', 'every'),
  'GET /v1/keys': needs('keys:admin', 'every'),
  'POST /v1/keys': needs('keys:admin', 'every'),
  'DELETE /v1/keys/:prefix': needs('keys:admin', 'every'),

  // The schema registry's Confluent-compatible API: lookups and compatibility checks read; the rest writes.
  'GET /registry/subjects': needs('metadata:read'),
  'GET /registry/subjects/:subject/versions': needs('metadata:read'),
  'GET /registry/subjects/:subject/versions/:version': needs('metadata:read'),
  'GET /registry/subjects/:subject/versions/:version/schema': needs('metadata:read'),
  'GET /registry/subjects/:subject/versions/:version/referencedby': needs('metadata:read'),
  'POST /registry/subjects/:subject': needs('metadata:read'),
  'GET /registry/schemas/types': needs('metadata:read'),
  'GET /registry/schemas/ids/:id': needs('metadata:read'),
  'GET /registry/schemas/ids/:id/schema': needs('metadata:read'),
  'GET /registry/schemas/ids/:id/versions': needs('metadata:read'),
  'GET /registry/schemas/ids/:id/subjects': needs('metadata:read'),
  'POST /registry/compatibility/subjects/:subject/versions/:version': needs('metadata:read'),
  'POST /registry/compatibility/subjects/:subject/versions': needs('metadata:read'),
  'GET /registry/config': needs('metadata:read'),
  'GET /registry/config/:subject': needs('metadata:read'),
  'GET /registry/mode': needs('metadata:read'),
  'GET /registry/mode/:subject': needs('metadata:read'),
  'POST /registry/subjects/:subject/versions': needs('schemas:admin'),
  'DELETE /registry/subjects/:subject': needs('schemas:admin'),
  'DELETE /registry/subjects/:subject/versions/:version': needs('schemas:admin'),
  'PUT /registry/config': needs('schemas:admin'),
  'PUT /registry/config/:subject': needs('schemas:admin'),
  'DELETE /registry/config/:subject': needs('schemas:admin'),
  'PUT /registry/mode': needs('schemas:admin'),
  'PUT /registry/mode/:subject': needs('schemas:admin'),

  'GET /v1/subscriptions': needs('metadata:read'),
  'GET /v1/subscriptions/:name': needs('metadata:read'),
  'GET /v1/subscriptions/:name/attempts': needs('metadata:read'),
  'POST /v1/subscriptions': needs('subscriptions:admin', 'every'),
  'PUT /v1/subscriptions/:name': needs('subscriptions:admin', 'every'),
  'DELETE /v1/subscriptions/:name': needs('subscriptions:admin', 'every'),
  'POST /v1/subscriptions/:name/disable': needs('subscriptions:admin', 'every'),
  'POST /v1/subscriptions/:name/enable': needs('subscriptions:admin', 'every'),
  'POST /v1/subscriptions/:name/replay': needs('subscriptions:admin', 'every'),
  'POST /v1/consumers/:group/fetch': needs('events:read', 'every'),
  'POST /v1/consumers/:group/ack': needs('events:read', 'every'),
  'POST /v1/erasures': needs('phi:erase', 'every'),
};

/** Permissions whose use is recorded in the audit trail, as a read of event data or an administrative action. */
export const AUDITED: Readonly<Partial<Record<Permission, 'read' | 'action'>>> = {
  'events:read': 'read',
  'audit:read': 'read',
  'topics:admin': 'action',
  'groups:admin': 'action',
  'dead-letters:admin': 'action',
  'store:admin': 'action',
  'workflows:admin': 'action',
  'jobs:admin': 'action',
  'keys:admin': 'action',
  'schemas:admin': 'action',
  'subscriptions:admin': 'action',
  'phi:erase': 'action',
};

/** Paths of the API, the schema registry and the node's own endpoints; anything else is a file of the web console. */
const API_PATH = /^\/(v1\/|registry(\/|$)|metrics$|healthz$|readyz$)/;

/**
 * What the route `url` (as registered) needs for `method`; HEAD needs what GET needs. Undefined for a route of
 * the API nobody declared: refused.
 */
export function accessOf(method: string, url: string): RouteAccess | undefined {
  if (!API_PATH.test(url)) return needs('public');
  return ROUTE_ACCESS[`${method === 'HEAD' ? 'GET' : method} ${url}`];
}
