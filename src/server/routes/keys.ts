import { z } from 'zod';
import type { ApiKeyRecord, ApiKeyStore } from '../../security/identity/api-key-store.ts';
import { ROLES } from '../../security/identity/identity.ts';
import { ResourceNotFoundError } from '../api/errors.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';

const patterns = (what: string) =>
  z.array(z.string().min(1).max(200)).min(1).max(100).describe(`${what} patterns (\`*\` for all).`);

const keySchema = z
  .object({
    prefix: z.string().describe('Public part of the key, naming it.'),
    name: z.string(),
    roles: z.array(z.enum(ROLES)),
    tenants: patterns('Tenant'),
    topics: patterns('Topic'),
    types: patterns('Event type'),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .describe('An API key, without the key itself (only its hash is kept).');

const identitySchema = z.object({
  subject: z.string(),
  name: z.string(),
  via: z.enum(['api-key', 'oidc', 'unauthenticated']),
  roles: z.array(z.enum(ROLES)),
  tenants: z.array(z.string()),
  topics: z.array(z.string()),
  types: z.array(z.string()),
});

/** Registers `GET /v1/whoami` and, with a key store, `GET|POST /v1/keys` and `DELETE /v1/keys/:prefix`. */
export function registerKeyRoutes(api: ApiRegistry, keys: ApiKeyStore | undefined): void {
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/whoami',
      operationId: 'whoAmI',
      summary: 'The identity of the request: roles and scopes',
      tag: 'security',
      answer: identitySchema,
      handler: async ({ request }) => {
        const identity = request.identity;
        if (identity === undefined) throw new Error('whoami reached without an identity');
        return { ...identity, roles: [...identity.roles] } as z.input<typeof identitySchema>;
      },
    }),
  );
  if (keys === undefined) return;
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/keys',
      operationId: 'listKeys',
      summary: 'List API keys, newest first (never the keys themselves)',
      tag: 'security',
      answer: z.object({ items: z.array(keySchema) }),
      handler: async () => ({ items: keys.list().map(keyJson) }),
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/keys',
      operationId: 'createKey',
      summary: 'Create an API key; the answer is the only time the key is shown',
      tag: 'security',
      body: z.strictObject({
        name: z.string().trim().min(1).max(100),
        roles: z.array(z.enum(ROLES)).min(1),
        tenants: patterns('Tenant').optional(),
        topics: patterns('Topic').optional(),
        types: patterns('Event type').optional(),
        expiresAt: z.iso.datetime().optional(),
      }),
      answer: z.object({ key: z.string().describe('The API key: store it now.'), record: keySchema }),
      status: 201,
      handler: async ({ body }) => {
        const { expiresAt, ...rest } = body;
        const { key, record } = keys.create({
          ...rest,
          ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}),
        });
        return { key, record: keyJson(record) };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'DELETE',
      url: '/v1/keys/:prefix',
      operationId: 'revokeKey',
      summary: 'Revoke an API key: it stops working at once',
      tag: 'security',
      params: z.strictObject({ prefix: z.string().regex(/^[0-9a-f]{8}$/) }),
      answer: keySchema,
      problems: [404],
      handler: async ({ params }) => {
        const found = keys.list().find((record) => record.prefix === params.prefix);
        if (found === undefined) throw new ResourceNotFoundError('API key', params.prefix, 'params.prefix');
        keys.revoke(params.prefix);
        return keyJson(keys.list().find((record) => record.prefix === params.prefix) ?? found);
      },
    }),
  );
}

function keyJson(record: ApiKeyRecord): z.input<typeof keySchema> {
  return {
    ...record,
    createdAt: record.createdAt.toISOString(),
    expiresAt: record.expiresAt?.toISOString() ?? null,
    revokedAt: record.revokedAt?.toISOString() ?? null,
  };
}
