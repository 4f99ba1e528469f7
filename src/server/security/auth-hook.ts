import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { AuditLog } from '../../security/audit/audit-log.ts';
import { isAllowed } from '../../security/authorization/authorize.ts';
import { AuthenticationError } from '../../security/errors.ts';
import type { Authenticator } from '../../security/identity/authenticator.ts';
import {
  ANY,
  type Identity,
  UNAUTHENTICATED_ADMIN,
  UNAUTHENTICATED_ADMIN_MASKED,
} from '../../security/identity/identity.ts';
import { problem, sendProblem } from '../problem.ts';
import { AUDITED, accessOf, type RouteAccess } from './route-access.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who asks; set before any handler runs (the all-powerful anonymous identity when auth is off). */
    identity?: Identity;
  }
}

/** How the node authenticates requests. */
export interface AuthSettings {
  /** `required`: every route but the public ones needs credentials; `off`: every request may do anything. */
  mode: 'required' | 'off';
  /** Checks credentials; needed when `mode` is `required`. */
  authenticator?: Authenticator;
  /** Where refusals are counted (`keel_auth_refusals_total` by reason); none: not counted. */
  registry?: Registry;
  /** Where reads of event data and administrative actions are recorded; none: not recorded. */
  audit?: AuditLog;
  /** The topic the audit trail is forwarded to: reading it through topic routes needs `audit:read` too. */
  auditTopic?: string;
  /**
   * With `mode` off, whether the anonymous identity holds the read-PHI permission (`KEEL_PHI_READ`); default
   * true. With `mode` required, each identity's roles decide.
   */
  anonymousReadsPhi?: boolean;
}

/** Request header giving why data is read (recorded in the audit trail). */
export const AUDIT_REASON_HEADER = 'keel-audit-reason';

/**
 * Checks every request before its handler: finds what its route needs (route-access.ts; undeclared API
 * routes are refused), authenticates it (401 without a valid identity) and authorizes it (403, saying nothing
 * of what exists). Server-sent event streams and jobs are routes too, so they are checked the same way.
 */
export function registerAuthentication(app: FastifyInstance, settings: AuthSettings): void {
  const refusals = settings.registry
    ? new Counter({
        name: 'keel_auth_refusals_total',
        help: 'Requests refused by authentication (401) or authorization (403), by reason.',
        labelNames: ['status', 'reason'],
        registers: [settings.registry],
      })
    : undefined;
  const refuse = (reply: FastifyReply, status: 401 | 403, reason: string, detail: string) => {
    refusals?.inc({ status: String(status), reason });
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="keel"');
    return status === 401
      ? sendProblem(reply, problem('unauthenticated', 401, 'Unauthenticated', detail))
      : sendProblem(reply, problem('forbidden', 403, 'Forbidden', detail));
  };

  app.addHook('onRequest', async (request, reply) => {
    // No route matched: the not-found answer or a console page, which hold no data.
    const url = request.routeOptions.url;
    if (url === undefined) return;
    const access = accessOf(request.method, url);
    if (access === undefined) {
      request.log.error({ method: request.method, url }, 'route has no declared permission: refused');
      return refuse(reply, 403, 'undeclared', 'this operation is not allowed');
    }
    if (access.permission === 'public') return;
    const identity = await identify(request, settings);
    if (identity instanceof AuthenticationError) return refuse(reply, 401, 'credentials', identity.reason);
    request.identity = identity;
    const topic = access.topicParam ? paramOf(request, access.topicParam) : undefined;
    const auditTopic = topic !== undefined && topic === settings.auditTopic;
    if (
      !isAllowed(identity, { permission: access.permission, topic }) ||
      (auditTopic && !isAllowed(identity, { permission: 'audit:read' }))
    ) {
      await record(settings.audit, request, identity, access, 'refused');
      return refuse(reply, 403, access.permission, 'this identity is not allowed to do this');
    }
    if (access.tenant === 'every' && !identity.tenants.includes(ANY)) {
      await record(settings.audit, request, identity, access, 'refused');
      return refuse(reply, 403, 'tenant', 'this identity is not allowed to do this');
    }
  });

  // After the body is read: a tenant-scoped identity's filter is set to its tenant before the handler runs.
  app.addHook('preHandler', async (request, reply) => {
    const url = request.routeOptions.url;
    const identity = request.identity;
    const access = url === undefined ? undefined : accessOf(request.method, url);
    if (identity === undefined || access === undefined) return;
    const place = access.tenant;
    if (identity.tenants.includes(ANY) || (place !== 'query' && place !== 'body')) {
      return record(settings.audit, request, identity, access, 'allowed');
    }
    const scoped = scopeToTenant(request, place, identity.tenants);
    await record(settings.audit, request, identity, access, scoped === 'ok' ? 'allowed' : 'refused');
    if (scoped === 'refused') return refuse(reply, 403, 'tenant', 'this identity is not allowed to do this');
    if (scoped === 'ambiguous') {
      return sendProblem(
        reply,
        problem(
          'tenant-required',
          400,
          'Tenant required',
          'this identity has several tenants: name one with `tenant`',
          {
            errors: [
              { path: `${place}.tenant`, rule: 'required', message: `one of ${identity.tenants.join(', ')}` },
            ],
          },
        ),
      );
    }
  });
}

/**
 * Records a request of an audited permission (see AUDITED) before any data leaves: refused ones when refused,
 * allowed ones just before their handler (streams included). A record that cannot be stored fails the request
 * (500): nothing is read unrecorded.
 */
async function record(
  audit: AuditLog | undefined,
  request: FastifyRequest,
  identity: Identity,
  access: RouteAccess,
  outcome: 'allowed' | 'refused',
): Promise<void> {
  const kind = AUDITED[access.permission];
  if (audit === undefined || kind === undefined) return;
  const reason = request.headers[AUDIT_REASON_HEADER];
  await audit.append({
    kind,
    subject: identity.subject,
    actor: identity.name,
    operation: `${request.method} ${request.routeOptions.url}`,
    target: { params: request.params ?? {}, query: request.query ?? {} },
    reason: typeof reason === 'string' ? reason.slice(0, 500) : undefined,
    outcome,
  });
}

/**
 * Sets the `tenant` filter of the request's query or JSON body to one of `tenants`: the one asked for when it
 * is one of them, the only one when none is asked for. A body that is not a JSON object is left for the
 * route to refuse.
 */
function scopeToTenant(
  request: FastifyRequest,
  place: 'query' | 'body',
  tenants: readonly string[],
): 'ok' | 'refused' | 'ambiguous' {
  let holder: Record<string, unknown>;
  if (place === 'query') {
    holder = request.query as Record<string, unknown>;
  } else {
    if (!Buffer.isBuffer(request.body) || request.body.length === 0) return 'ok';
    try {
      holder = JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return 'ok';
    }
    if (typeof holder !== 'object' || holder === null || Array.isArray(holder)) return 'ok';
  }
  const asked = holder.tenant;
  if (asked !== undefined) {
    if (typeof asked !== 'string' || !tenants.includes(asked)) return 'refused';
  } else if (tenants.length === 1) {
    holder.tenant = tenants[0];
  } else {
    return tenants.length === 0 ? 'refused' : 'ambiguous';
  }
  if (place === 'body') request.body = Buffer.from(JSON.stringify(holder));
  return 'ok';
}

async function identify(
  request: FastifyRequest,
  settings: AuthSettings,
): Promise<Identity | AuthenticationError> {
  if (settings.mode === 'off')
    return settings.anonymousReadsPhi === false ? UNAUTHENTICATED_ADMIN_MASKED : UNAUTHENTICATED_ADMIN;
  if (settings.authenticator === undefined)
    return new AuthenticationError('no way to authenticate is configured');
  try {
    return await settings.authenticator.authenticate(request.headers.authorization);
  } catch (error) {
    if (error instanceof AuthenticationError) return error;
    throw error;
  }
}

function paramOf(request: FastifyRequest, name: string): string | undefined {
  const value = (request.params as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}
