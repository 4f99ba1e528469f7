import type { Catalog } from '../../events/catalog.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import {
  type CreateEventOptions,
  createEvent,
  validateDecodedEventData,
  validateEventData,
} from '../../events/create-event.ts';
import type { EventDefinition } from '../../events/define-event.ts';
import {
  CORE_ATTRIBUTES,
  checkSuppliedAttributes,
  isAttributeName,
  parseCloudEvent,
} from '../../events/envelope.ts';
import { ValidationError, type ValidationIssue } from '../../events/errors.ts';
import { activeTraceparent } from '../../observability/tracing.ts';
import { atBatchIndex } from '../errors.ts';
import { inheritedEnvelope } from '../handling-context.ts';
import type { PublishOptions, PublishToOptions } from '../publisher-port.ts';
import type { Destination, EventPlacer } from './event-placer.ts';
import type { PlacedEvent } from './placed-event.ts';

// Attribute names an `extensions` option may not take: the core ones and Keel's own.
const RESERVED_ATTRIBUTES: ReadonlySet<string> = new Set([
  ...CORE_ATTRIBUTES,
  'data',
  'data_base64',
  'tenantid',
  'correlationid',
  'causationid',
  'partitionkey',
  'traceparent',
]);

/** What the builder needs. */
export interface EventBuilderOptions {
  catalog: Catalog;
  /** CloudEvents `source` of the events it creates. */
  source: string;
  placer: EventPlacer;
}

/** Turns what a caller publishes into placed events: validated, enriched, then placed. */
export interface EventBuilder {
  /** Creates, validates and places one typed event (on the catalog's topic unless `destination` names one). */
  build(
    definition: EventDefinition,
    data: unknown,
    options: PublishOptions,
    destination?: Destination,
    extensions?: Readonly<Record<string, string>>,
  ): PlacedEvent;
  /** Creates and places many events of one type sharing options; throws on the first invalid one, naming its index. */
  buildMany(
    definition: EventDefinition,
    data: readonly unknown[],
    options: Omit<PublishOptions, 'id'>,
  ): PlacedEvent[];
  /**
   * Checks already-formed events against the catalog (their envelopes too, unless `decoded` says a
   * binding checked them) and places them; a bad one goes to `rejected` with its index in the batch.
   */
  admit(
    events: readonly CloudEvent[],
    decoded: boolean,
    rejected: (error: unknown, type: string) => never,
  ): PlacedEvent[];
}

/** Creates the event builder of one publisher. */
export function createEventBuilder(options: EventBuilderOptions): EventBuilder {
  const { catalog, placer } = options;

  // Envelope of a new event: the caller's options first, then what the handled event passes on.
  const envelope = (publishOptions: PublishOptions): CreateEventOptions => {
    const inherited = inheritedEnvelope();
    const { extensions: _, ...own } = publishOptions as PublishToOptions;
    return {
      ...own,
      source: own.source ?? options.source,
      correlationId: own.correlationId ?? inherited.correlationId,
      causationId: own.causationId ?? inherited.causationId,
      tenantId: own.tenantId ?? inherited.tenantId,
      // The active span (a handler's processing span, or the caller's) continues in the consumers.
      traceparent: own.traceparent ?? activeTraceparent(),
    };
  };

  const build: EventBuilder['build'] = (definition, data, publishOptions, destination, extensions) => {
    let event: CloudEvent = createEvent(definition, data as never, envelope(publishOptions));
    if (extensions !== undefined) event = withExtensions(event, extensions);
    return placer.place(event, destination ?? placer.routed(definition.type));
  };

  // A formed event: its data checked against its definition (upcast when older), its key filled in.
  const admitOne = (input: CloudEvent, decoded: boolean): PlacedEvent => {
    const entry = catalog.route(input.type);
    const { definition } = entry;
    let event: CloudEvent;
    if (definition)
      event = decoded ? validateDecodedEventData(definition, input) : validateEventData(definition, input);
    else event = decoded ? input : parseCloudEvent(input);
    // An event posted without a key gets the one its definition picks, so HTTP ingestion keeps per-key order too.
    const key = event.partitionkey ?? definition?.partitionKey?.(event.data as never);
    if (key !== undefined && event.partitionkey === undefined) event = { ...event, partitionkey: key };
    // One posted without trace context continues the active span (the HTTP request's, when traced).
    if (event.traceparent === undefined) {
      const traceparent = activeTraceparent();
      if (traceparent !== undefined) event = { ...event, traceparent };
    }
    return placer.place(event, { topic: entry.topic.name, partitions: entry.topic.partitions });
  };

  return {
    build,

    buildMany: (definition, data, publishOptions) => {
      // Options typed without `id` may still carry one at run time; one id for many events would collide.
      const { id: _, ...shared } = publishOptions as PublishOptions;
      return data.map((item, index) => {
        try {
          return build(definition, item, shared);
        } catch (error) {
          throw data.length > 1 ? inBatch(error, index) : error;
        }
      });
    },

    admit: (events, decoded, rejected) =>
      events.map((input, index) => {
        try {
          return admitOne(input, decoded);
        } catch (error) {
          return rejected(events.length > 1 ? inBatch(error, index) : error, input.type);
        }
      }),
  };
}

/** Adds extension attributes to a created event, refusing invalid or reserved names and bad values. */
function withExtensions(event: CloudEvent, extensions: Readonly<Record<string, string>>): CloudEvent {
  const issues: ValidationIssue[] = [];
  for (const name of Object.keys(extensions)) {
    if (!isAttributeName(name) || RESERVED_ATTRIBUTES.has(name)) {
      issues.push({
        path: `extensions.${name}`,
        rule: 'invalid_name',
        message: 'must be lower-case letters and digits, and not a core or Keel attribute',
      });
    }
  }
  issues.push(...checkSuppliedAttributes(extensions));
  if (issues.length > 0) throw new ValidationError(`invalid ${event.type} event`, issues, event.type);
  return { ...event, ...extensions };
}

/** The error of the event at `index` of a batch: validation issues' paths prefixed with `[index]`. */
function inBatch(error: unknown, index: number): unknown {
  if (error instanceof ValidationError) {
    const issues = error.issues.map((issue) => ({
      ...issue,
      path: `[${index}]${issue.path ? `.${issue.path}` : ''}`,
    }));
    return atBatchIndex(new ValidationError(`event [${index}] is invalid`, issues, error.eventType), index);
  }
  return error instanceof Error ? atBatchIndex(error, index) : error;
}
