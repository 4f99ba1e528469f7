import type { Catalog } from '../events/catalog.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import { isAllowed } from '../security/authorization/authorize.ts';
import { ForbiddenError } from '../security/errors.ts';
import type { Identity } from '../security/identity/identity.ts';
import type { AnyPublishReceipt, Publisher } from './publisher-port.ts';

/** What is known of an event about to be published: its type and tenant (empty: none). */
interface Outgoing {
  type: string;
  tenant: string;
  /** The topic it goes to when named by the caller; else the catalog's topic for its type. */
  topic?: string;
}

/**
 * Throws ForbiddenError unless `identity` may publish every one of `events`: `events:publish`, and each
 * event's type, tenant and topic within its scopes. Nothing is published when one is refused.
 */
export function assertMayPublish(identity: Identity, catalog: Catalog, events: readonly Outgoing[]): void {
  for (const event of events) {
    const topic = event.topic ?? topicOf(catalog, event.type);
    if (
      !isAllowed(identity, { permission: 'events:publish', type: event.type, tenant: event.tenant, topic })
    ) {
      throw new ForbiddenError('events:publish');
    }
  }
}

/** The tenant and type of CloudEvents as assertMayPublish reads them. */
export function outgoingOf(events: readonly CloudEvent[]): Outgoing[] {
  return events.map((event) => ({
    type: event.type,
    tenant: typeof event.tenantid === 'string' ? event.tenantid : '',
  }));
}

/**
 * A publisher that checks every publish against `identity` before handing it to `publisher` (see
 * assertMayPublish); what it refuses throws ForbiddenError and reaches no transport.
 */
export function guardPublisher<Receipt extends AnyPublishReceipt>(
  publisher: Publisher<Receipt>,
  identity: Identity,
  catalog: Catalog,
): Publisher<Receipt> {
  // Promise-returning methods reject (never throw) on a refusal, as the publisher's own errors do.
  const check = (events: readonly Outgoing[]) => assertMayPublish(identity, catalog, events);
  const guarded: Partial<Publisher<Receipt>> = {
    publish: async (definition, data, options) => {
      check([{ type: definition.type, tenant: options?.tenantId ?? '' }]);
      return publisher.publish(definition, data, options);
    },
    publishMany: async (definition, data, options) => {
      check([{ type: definition.type, tenant: options?.tenantId ?? '' }]);
      return publisher.publishMany(definition, data, options);
    },
    publishEvents: async (events) => {
      check(outgoingOf(events));
      return publisher.publishEvents(events);
    },
    publishDecoded: async (events) => {
      check(outgoingOf(events));
      return publisher.publishDecoded(events);
    },
    emit: (definition, data, options) => {
      check([{ type: definition.type, tenant: options?.tenantId ?? '' }]);
      publisher.emit(definition, data, options);
    },
    publishTo: async (topic, definition, data, options) => {
      check([{ type: definition.type, tenant: options?.tenantId ?? '', topic }]);
      return publisher.publishTo(topic, definition, data, options);
    },
    request: (async (definition: { type: string }, data: unknown, options?: { tenantId?: string }) => {
      check([{ type: definition.type, tenant: options?.tenantId ?? '' }]);
      return (publisher.request as (...args: unknown[]) => unknown)(definition, data, options);
    }) as Publisher<Receipt>['request'],
    transaction: (work) =>
      publisher.transaction((tx) =>
        work({
          ...tx,
          publish: (definition, data, options) => {
            check([{ type: definition.type, tenant: options?.tenantId ?? '' }]);
            return tx.publish(definition, data, options);
          },
          publishMany: (definition, data, options) => {
            check([{ type: definition.type, tenant: options?.tenantId ?? '' }]);
            return tx.publishMany(definition, data, options);
          },
        }),
      ),
  };
  // The rest (close, health, ...) is the publisher's own.
  return Object.assign(Object.create(publisher) as Publisher<Receipt>, guarded);
}

function topicOf(catalog: Catalog, type: string): string | undefined {
  try {
    return catalog.route(type).topic.name;
  } catch {
    // An unknown type: the publisher refuses it with its own error, naming the type.
    return undefined;
  }
}
