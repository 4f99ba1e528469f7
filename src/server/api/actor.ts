import type { FastifyRequest } from 'fastify';

/** Header naming who asks for an action, recorded with it (authentication comes with the security part). */
export const ACTOR_HEADER = 'keel-actor';

/** The request's actor (the `keel-actor` header), or undefined when not given. */
export function actorOf(request: FastifyRequest): string | undefined {
  const value = request.headers[ACTOR_HEADER];
  const actor = Array.isArray(value) ? value[0] : value;
  return actor === undefined || actor.trim() === '' ? undefined : actor.trim().slice(0, 200);
}
