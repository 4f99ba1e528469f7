import type { CloudEvent } from './cloud-event.ts';

/** What an ingestor is given: the raw body of a request and the media type it was sent as. */
export interface IngestInput {
  body: Uint8Array;
  /** The request's `content-type`, or undefined when it had none. */
  contentType: string | undefined;
}

/** Where the node stored one event an ingestor made; `replayed` when an earlier request had stored it. */
export interface IngestReceipt {
  id: string;
  type: string;
  topic: string;
  partition: number;
  /** Offset in the partition, as decimal digits. */
  offset: string;
  replayed?: true;
}

/** An answer in the ingestor's own format (a FHIR OperationOutcome or Bundle, an HL7 ACK...). */
export interface IngestAnswer {
  /** HTTP status. */
  status: number;
  contentType: string;
  body: string;
}

/** Why the node did not publish what an ingestor made, for the ingestor to say in its own format. */
export interface IngestFailure {
  /** HTTP status the node would answer: 403, 409, 422, 503... */
  status: number;
  /** `invalid-event` (the catalog refused an event), `conflict` (an id reused with other content), `forbidden`, `unavailable`. */
  code: 'invalid-event' | 'conflict' | 'forbidden' | 'unavailable';
  detail: string;
  /** Index in `events` of the event at fault, when one is. */
  eventIndex?: number | undefined;
}

/** What an ingestor made of a request: events to publish (all or nothing) and how to answer, or a refusal. */
export type IngestResult =
  | {
      kind: 'events';
      /** CloudEvents (specversion 1.0) to publish in one atomic append; ids chosen so a repeat is recognised. */
      events: readonly CloudEvent[];
      /** The answer once they are stored, given their receipts in the same order. */
      answer: (receipts: readonly IngestReceipt[]) => IngestAnswer;
      /** The answer when the node did not publish them (nothing of them was stored). */
      fail: (failure: IngestFailure) => IngestAnswer;
    }
  | { kind: 'refused'; answer: IngestAnswer };

/** How to declare an ingestor: a format the node takes at `POST /v1/ingest/<name>` and turns into events. */
export interface IngestorSpec {
  /** Lower-case name in the route, e.g. `fhir`. */
  name: string;
  /** One line for the API reference. */
  description: string;
  /** Reads a request into events or a refusal; throws only on a fault of its own. */
  ingest: (input: IngestInput) => IngestResult | Promise<IngestResult>;
}

/** A declared ingestor: plain data the catalog module exports in `ingestors`. */
export interface IngestorDefinition extends Readonly<IngestorSpec> {
  readonly kind: 'ingestor';
}

/** Declares an ingestor; throws TypeError when its name cannot be a path segment. */
export function defineIngestor(spec: IngestorSpec): IngestorDefinition {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(spec.name)) {
    throw new TypeError(`defineIngestor: name "${spec.name}" must be lower-case letters, digits and '-'`);
  }
  return Object.freeze({ kind: 'ingestor' as const, ...spec });
}
