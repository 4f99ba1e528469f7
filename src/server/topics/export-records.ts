import type { CloudEvent } from '../../events/cloud-event.ts';
import { toStructuredObject } from '../../events/json-format.ts';
import type { StoredRecord, TopicConfig, Transport } from '../../transport/transport.ts';
import { decodeRecord } from './message-filter.ts';

/** Which records of a topic an export takes. */
export interface ExportSelection {
  topic: TopicConfig;
  /** One partition; every partition (0 first) when undefined. */
  partition: number | undefined;
  /** First offset (inclusive) in each partition read; the log start when undefined. */
  from: bigint | undefined;
  /** Offset to stop before in each partition read; the log end (as it was when the export began) when undefined. */
  to: bigint | undefined;
  /** Records to keep; all when undefined. */
  match: ((record: StoredRecord) => boolean) | undefined;
  /** Most events written; unbounded when undefined. */
  limit: number | undefined;
}

/** Records read per call to the transport, and so per chunk of the answer. */
const CHUNK = 500;

/**
 * The selected records that are CloudEvents, partition after partition in offset order, in chunks of up to
 * 500. The end of each partition is taken when the export starts, so a busy topic does not keep it running.
 */
export async function* exportedEvents(
  transport: Transport,
  selection: ExportSelection,
): AsyncGenerator<{ record: StoredRecord; event: CloudEvent }[]> {
  const bounds = await transport.offsets(selection.topic.name);
  let left = selection.limit ?? Number.POSITIVE_INFINITY;
  for (const { partition, earliest, latest } of [...bounds].sort((a, b) => a.partition - b.partition)) {
    if (selection.partition !== undefined && partition !== selection.partition) continue;
    let position = selection.from !== undefined && selection.from > earliest ? selection.from : earliest;
    const end = selection.to !== undefined && selection.to < latest ? selection.to : latest;
    while (position < end && left > 0) {
      const records = await transport.read(selection.topic.name, partition, position, CHUNK);
      if (records.length === 0) break;
      const chunk: { record: StoredRecord; event: CloudEvent }[] = [];
      for (const record of records) {
        if (record.offset >= end || left === 0) break;
        if (selection.match !== undefined && !selection.match(record)) continue;
        const event = decodeRecord(record);
        if (event === undefined) continue;
        chunk.push({ record, event });
        left--;
      }
      if (chunk.length > 0) yield chunk;
      position = (records.at(-1) as StoredRecord).offset + 1n;
    }
  }
}

/** One CloudEvent per line in the JSON format (`data_base64` for binary data), as NDJSON text. */
export async function* ndjsonText(chunks: AsyncIterable<{ event: CloudEvent }[]>): AsyncGenerator<string> {
  for await (const chunk of chunks) {
    let text = '';
    for (const { event } of chunk) text += `${JSON.stringify(toStructuredObject(event))}\n`;
    yield text;
  }
}

/** Columns of a CSV export, in order. */
export const CSV_COLUMNS = [
  'topic',
  'partition',
  'offset',
  'id',
  'type',
  'source',
  'subject',
  'time',
  'correlationid',
  'tenantid',
  'data',
] as const;

/** A header row, then one row per event (RFC 4180, CRLF line ends), `data` as JSON. */
export async function* csvText(
  chunks: AsyncIterable<{ record: StoredRecord; event: CloudEvent }[]>,
): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  for await (const chunk of chunks) {
    let text = '';
    for (const { record, event } of chunk) text += `${csvRow(record, event)}\r\n`;
    yield text;
  }
}

function csvRow(record: StoredRecord, event: CloudEvent): string {
  const data =
    event.data === undefined
      ? ''
      : event.data instanceof Uint8Array
        ? JSON.stringify({ data_base64: Buffer.from(event.data).toString('base64') })
        : JSON.stringify(event.data);
  return [
    record.topic,
    String(record.partition),
    record.offset.toString(),
    event.id,
    event.type,
    event.source,
    event.subject,
    event.time,
    event.correlationid,
    event.tenantid,
    data,
  ]
    .map(csvCell)
    .join(',');
}

/**
 * One CSV cell: quoted when it holds a comma, quote or line break. Text a spreadsheet would run as a formula
 * (starting with `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'` (OWASP's advice against CSV injection).
 */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
