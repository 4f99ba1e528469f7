/** The CloudEvents specification version Keel emits and accepts. */
export const SPEC_VERSION = '1.0';

/** The extension attributes Keel itself sets on every event it emits (where known). */
export interface KeelExtensions {
  /** Tenant that owns the event; every stored row carries it. */
  tenantid?: string;
  /** Id shared by every event caused, directly or not, by one request. */
  correlationid?: string;
  /** Id of the event (or command) that directly caused this one. */
  causationid?: string;
  /** Key that selects the partition; events with one key keep their order. */
  partitionkey?: string;
  /** W3C trace context of the span that emitted the event. */
  traceparent?: string;
}

/** Extension attribute values allowed by the CloudEvents type system. */
export type ExtensionValue = string | number | boolean;

/**
 * A CloudEvents 1.0 envelope. Optional attributes are absent rather than null;
 * other extension attributes (lower-case alphanumeric names) may be present.
 */
export interface CloudEvent<Data = unknown> extends KeelExtensions {
  specversion: '1.0';
  /** Unique per source; Keel generates UUIDv7 so ids sort by creation time. */
  id: string;
  /** URI-reference naming the context the event happened in. */
  source: string;
  /** Reverse-DNS event type, e.g. `healthcare.patient.created`. */
  type: string;
  /** RFC 3339 timestamp of the occurrence. */
  time?: string;
  /** Subject of the event within the source, e.g. the aggregate id. */
  subject?: string;
  /** Media type of `data`; Keel emits `application/json`. */
  datacontenttype?: string;
  /** URI of the schema `data` adheres to; Keel puts the event version in it. */
  dataschema?: string;
  /** The payload; `data_base64` in JSON when binary. */
  data?: Data;
  /** Further extension attributes. */
  [extension: string]: unknown;
}
