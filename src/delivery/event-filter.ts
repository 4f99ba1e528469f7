import { parse as parseCel } from '@marcbachmann/cel-js';
import type { CloudEvent } from '../events/cloud-event.ts';
import type { SubscriptionFilter } from './subscription.ts';

/**
 * A subscription's filter as a predicate over events: type, tenant and source exactly, then the CEL
 * condition over `event` (its attributes, `event.data` included) and `data`. A condition that does not
 * evaluate to `true` on an event (false, another type, a missing field) does not match it, as CEL filters
 * treat errors. The types narrow what the subscription consumes; they are checked here too.
 */
export function compileEventFilter(filter: SubscriptionFilter): (event: CloudEvent) => boolean {
  const types = filter.types === undefined ? undefined : new Set(filter.types);
  const evaluate = filter.condition === undefined ? undefined : parseCel(filter.condition);
  return (event) => {
    if (types !== undefined && !types.has(event.type)) return false;
    if (filter.tenant !== undefined && event.tenantid !== filter.tenant) return false;
    if (filter.source !== undefined && event.source !== filter.source) return false;
    if (evaluate === undefined) return true;
    try {
      const view = { ...event } as Record<string, unknown>;
      return evaluate({ event: view, data: event.data ?? null }) === true;
    } catch {
      return false;
    }
  };
}
