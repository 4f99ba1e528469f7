import type { CloudEvent } from './cloud-event.ts';

const PREFIX = 'urn:keel:schema:';
const DATASCHEMA = /^urn:keel:schema:([a-zA-Z0-9][a-zA-Z0-9._-]*):([1-9][0-9]*)$/;

/** The `dataschema` URI Keel gives events of a type at a version: `urn:keel:schema:<type>:<version>`. */
export function dataschemaFor(type: string, version: number): string {
  return `${PREFIX}${type}:${version}`;
}

/** Event type and version named by a Keel `dataschema` URI; undefined for any other URI. */
export function parseDataschema(
  dataschema: string | undefined,
): { type: string; version: number } | undefined {
  const match = dataschema === undefined ? null : DATASCHEMA.exec(dataschema);
  if (!match) return undefined;
  const version = Number(match[2]);
  return Number.isSafeInteger(version) ? { type: match[1] ?? '', version } : undefined;
}

/** Version of an event's data, read from its Keel `dataschema`; undefined when absent, foreign or of another type. */
export function versionOf(event: Pick<CloudEvent, 'type' | 'dataschema'>): number | undefined {
  const parsed = parseDataschema(event.dataschema);
  return parsed?.type === event.type ? parsed.version : undefined;
}
