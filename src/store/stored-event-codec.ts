import type { Catalog } from '../events/catalog.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import { dataschemaFor, parseDataschema } from '../events/data-schema.ts';
import { toStructuredObject } from '../events/json-format.ts';
import { upcastData } from '../events/upcast.ts';

/**
 * The stored form of an event: its CloudEvents structured JSON (binary data as `data_base64`), validated.
 * The text is kept as written, so old versions stay exactly as they were appended.
 */
export function encodeStoredEvent(event: CloudEvent): string {
  return JSON.stringify(toStructuredObject(event));
}

/** Turns stored JSON back into the CloudEvent; it was validated when written, so it is not checked again. */
export type EventDecoder = (json: string) => CloudEvent;

/**
 * A decoder that, given a catalog, brings data written at an older version of its type to the current
 * version with the definition's upcasters (and names the current version in `dataschema`). Events of
 * unknown types, without a Keel `dataschema`, or already current are returned as stored.
 */
export function createEventDecoder(catalog: Catalog | undefined): EventDecoder {
  return (json) => {
    const event = JSON.parse(json) as CloudEvent & { data_base64?: string };
    if (typeof event.data_base64 === 'string') {
      const { data_base64: base64, ...rest } = event;
      return { ...rest, data: new Uint8Array(Buffer.from(base64, 'base64')) };
    }
    if (catalog === undefined) return event;
    const definition = catalog.event(event.type);
    const written = parseDataschema(event.dataschema);
    if (definition === undefined || written?.type !== event.type || written.version >= definition.version) {
      return event;
    }
    return {
      ...event,
      dataschema: dataschemaFor(event.type, definition.version),
      data: upcastData(definition, written.version, event.data),
    };
  };
}

/**
 * One NDJSON line of an archive (see `ArchivedEvent`): the store's fields, then the event's stored JSON
 * spliced in as written, so it is neither parsed nor upcast. `recordedAtMs` is milliseconds since the epoch.
 */
export function archivedLine(
  position: string,
  streamId: string,
  version: number,
  tenantId: string,
  recordedAtMs: number,
  json: string,
): string {
  const fields = JSON.stringify({
    position,
    streamId,
    version,
    tenantId,
    recordedAt: new Date(recordedAtMs).toISOString(),
  });
  return `${fields.slice(0, -1)},"event":${json}}\n`;
}
