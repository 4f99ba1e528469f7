import type { Catalog } from '../../events/catalog.ts';
import { isAllowed, tenantAllowed } from '../../security/authorization/authorize.ts';
import { ForbiddenError } from '../../security/errors.ts';
import type { Identity } from '../../security/identity/identity.ts';
import type { BatchHandler, Handler } from '../router-port.ts';

/**
 * Throws ForbiddenError unless `identity` may read every one of `types` (`events:read`, within its type and
 * topic patterns): a router with an identity refuses to start rather than consume what it may not see.
 */
export function assertMayConsume(identity: Identity, catalog: Catalog, types: Iterable<string>): void {
  for (const type of types) {
    const topic = catalog.route(type).topic.name;
    if (!isAllowed(identity, { permission: 'events:read', type, topic }))
      throw new ForbiddenError('events:read');
  }
}

/** True when an event's tenant (`tenantid`; none is the empty string) is one `identity` may see. */
function inScope(identity: Identity, event: { tenantid?: unknown }): boolean {
  return tenantAllowed(identity, typeof event.tenantid === 'string' ? event.tenantid : '');
}

/** A handler that passes over events of tenants `identity` may not see (they count as handled). */
export function scopedHandler<Data>(identity: Identity, handler: Handler<Data>): Handler<Data> {
  return (event, context) => (inScope(identity, event) ? handler(event, context) : undefined);
}

/** A batch handler that sees only the events of tenants `identity` may see; an empty batch is not handled. */
export function scopedBatchHandler<Data>(
  identity: Identity,
  handler: BatchHandler<Data>,
): BatchHandler<Data> {
  return (events, context) => {
    const visible = events.filter((event) => inScope(identity, event));
    return visible.length === 0 ? undefined : handler(visible, context);
  };
}
