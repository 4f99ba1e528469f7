import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import {
  type CloudEvent,
  defineIngestor,
  type IngestAnswer,
  type IngestFailure,
  type IngestInput,
  type IngestReceipt,
  type IngestResult,
} from '../../../../src/index.ts';
import { FhirBundleReceived } from '../../events/ingestion.ts';
import { bundleContext } from './bundle-context.ts';
import { type CheckedEntry, checkEntry } from './check-entry.ts';
import { FHIR_JSON, issue, outcomeAnswer } from './operation-outcome.ts';
import { contentHash, type Received, readEntries } from './read-entries.ts';
import { loadFhirDefinitions } from './validator.ts';

/** The `source` of every event the FHIR ingestion publishes. */
export const FHIR_SOURCE = 'urn:keel:ingest:fhir';

/** An event to publish and the entry it came from (undefined: the bundle's own receipt). */
interface Planned {
  event: CloudEvent;
  entry: number | undefined;
}

/** `Type/id/_history/version`: the version is `meta.versionId`, or a hash of the resource when it has none. */
function versionedId(resource: Resource, fullUrl: string | undefined): string {
  const id = resource.id ?? fullUrl ?? `sha256-${contentHash(resource).slice(0, 32)}`;
  const version = resource.meta?.versionId ?? `sha256-${contentHash(resource).slice(0, 32)}`;
  return `${resource.resourceType}/${id}/_history/${version}`;
}

/** A valid `time` from the resource's `meta.lastUpdated`, so a repeat has the same content. */
function timeOf(resource: Resource): string | undefined {
  const updated = resource.meta?.lastUpdated;
  return updated && !Number.isNaN(Date.parse(updated)) ? new Date(updated).toISOString() : undefined;
}

/** The events of the accepted entries, each keyed by resource type + id + version, then the bundle's receipt. */
function plan(received: Received, accepted: readonly CheckedEntry[]): Planned[] {
  const planned: Planned[] = [];
  for (const checked of accepted) {
    const { resource, fullUrl } = checked.entry;
    const entry = received.entries.indexOf(checked.entry);
    for (const { definition, data } of checked.events) {
      const subject = typeof data.patientId === 'string' ? data.patientId : undefined;
      const time = timeOf(resource);
      const event: CloudEvent = {
        specversion: '1.0',
        id: `${versionedId(resource, fullUrl)}/${definition.type}`,
        source: FHIR_SOURCE,
        type: definition.type,
        ...(subject ? { subject } : {}),
        ...(time ? { time } : {}),
        data,
      };
      planned.push({ event, entry });
    }
  }
  const single = received.bundle ? undefined : received.entries[0]?.resource;
  const bundleId =
    received.bundle?.id ??
    received.bundle?.identifier?.value ??
    (single?.id ? `${single.resourceType}/${single.id}` : received.contentHash.slice(0, 32));
  const byEntry = new Map(accepted.map((checked) => [checked.entry, checked]));
  const data = {
    bundleId,
    bundleType: received.kind,
    resources: received.entries.map((entry) =>
      Object.fromEntries(
        Object.entries({
          resourceType: entry.resource.resourceType,
          id: entry.resource.id,
          versionId: entry.resource.meta?.versionId,
          events: (byEntry.get(entry)?.events ?? []).map((e) => e.definition.type),
        }).filter(([, value]) => value !== undefined),
      ),
    ),
    patientIds: [...new Set(planned.flatMap((p) => (p.event.subject ? [p.event.subject] : [])))],
  };
  planned.push({
    event: {
      specversion: '1.0',
      id: `${received.bundle ? 'Bundle/' : ''}${bundleId}/sha256-${received.contentHash.slice(0, 32)}/${FhirBundleReceived.type}`,
      source: FHIR_SOURCE,
      type: FhirBundleReceived.type,
      data,
    },
    entry: undefined,
  });
  return planned;
}

/** An entry's `response` in a transaction-response or batch-response Bundle. */
function entryResponse(checked: CheckedEntry, receipts: readonly (IngestReceipt | undefined)[]): BundleEntry {
  const { resource, fullUrl } = checked.entry;
  if (checked.issues.length > 0) {
    return {
      response: {
        status: '422 Unprocessable Entity',
        outcome: { resourceType: 'OperationOutcome', issue: checked.issues },
      },
    };
  }
  const stored = receipts.filter((r): r is IngestReceipt => r !== undefined);
  const created = stored.some((r) => !r.replayed);
  const notes = stored.map((r) =>
    issue(
      'information',
      'informational',
      `${r.type} ${r.replayed ? 'already stored' : 'stored'} at ${r.topic}/${r.partition}@${r.offset}`,
    ),
  );
  if (stored.length === 0)
    notes.push(issue('information', 'informational', `no event for a ${resource.resourceType}`));
  return {
    ...(fullUrl ? { fullUrl } : {}),
    response: {
      status: created ? '201 Created' : '200 OK',
      location: versionedId(resource, fullUrl),
      outcome: { resourceType: 'OperationOutcome', issue: notes },
    },
  };
}

/** The answer once the events are stored: a response Bundle for transactions and batches, else an outcome. */
function successAnswer(
  received: Received,
  checked: readonly CheckedEntry[],
  planned: readonly Planned[],
  receipts: readonly IngestReceipt[],
): IngestAnswer {
  const receiptsOf = (index: number) => planned.map((p, i) => (p.entry === index ? receipts[i] : undefined));
  // checked[i] is received.entries[i]: they are made in one map.
  const entries = checked.map((c, index) => entryResponse(c, receiptsOf(index)));
  if (received.kind === 'transaction' || received.kind === 'batch') {
    const bundle: Bundle = { resourceType: 'Bundle', type: `${received.kind}-response`, entry: entries };
    return { status: 200, contentType: FHIR_JSON, body: JSON.stringify(bundle) };
  }
  const issues = entries.flatMap((e, index) =>
    (e.response?.outcome?.issue ?? []).map((i) => ({
      ...i,
      expression: [received.entries[index]?.path ?? ''],
    })),
  );
  const created = receipts.some((r) => !r.replayed && r.type !== FhirBundleReceived.type);
  return outcomeAnswer(created ? 201 : 200, issues);
}

/** The answer when the node did not publish: the issue names the entry of the event at fault. */
function failureAnswer(
  received: Received,
  planned: readonly Planned[],
  failure: IngestFailure,
): IngestAnswer {
  const entry = failure.eventIndex === undefined ? undefined : planned[failure.eventIndex]?.entry;
  const where = entry === undefined ? undefined : received.entries[entry]?.path;
  const code = (
    {
      conflict: 'conflict',
      forbidden: 'forbidden',
      unavailable: 'transient',
      'invalid-event': 'processing',
    } as const
  )[failure.code];
  return outcomeAnswer(failure.status, [
    issue('error', code, `nothing was stored: ${failure.detail}`, where),
  ]);
}

/** Reads the body as JSON; refuses another media type (FHIR XML is not taken) or malformed JSON. */
function parseBody(input: IngestInput): unknown | IngestAnswer {
  const type = input.contentType?.split(';')[0]?.trim().toLowerCase();
  if (type !== undefined && type !== FHIR_JSON && type !== 'application/json') {
    return outcomeAnswer(415, [
      issue('error', 'not-supported', `content type ${type} is not taken: send FHIR JSON (${FHIR_JSON})`),
    ]);
  }
  try {
    return { json: JSON.parse(Buffer.from(input.body).toString('utf8')) as unknown };
  } catch (error) {
    return outcomeAnswer(400, [
      issue('error', 'structure', `the body is not JSON: ${(error as Error).message}`),
    ]);
  }
}

/**
 * Reads a FHIR R4 Bundle (transaction, batch, collection, message) or a single resource into the pack's
 * events. A transaction, collection, message or single resource is all or nothing: one refused entry refuses
 * the request (422, an OperationOutcome naming each entry and element). A batch publishes its good entries and
 * answers the others in its batch-response.
 */
export async function ingestFhir(input: IngestInput): Promise<IngestResult> {
  const body = parseBody(input);
  if (!(typeof body === 'object' && body !== null && 'json' in body))
    return { kind: 'refused', answer: body as IngestAnswer };
  const received = readEntries(body.json);
  if ('issues' in received) return { kind: 'refused', answer: outcomeAnswer(400, received.issues) };
  await loadFhirDefinitions();
  const context = bundleContext(received.bundle);
  const checked = received.entries.map((entry) => checkEntry(entry, context));
  const refused = checked.filter((c) => c.issues.length > 0);
  const partial = received.kind === 'batch';
  if (refused.length > 0 && (!partial || refused.length === checked.length)) {
    return {
      kind: 'refused',
      answer: outcomeAnswer(
        422,
        refused.flatMap((c) => c.issues),
      ),
    };
  }
  const planned = plan(
    received,
    checked.filter((c) => c.issues.length === 0),
  );
  return {
    kind: 'events',
    events: planned.map((p) => p.event),
    answer: (receipts) => successAnswer(received, checked, planned, receipts),
    fail: (failure) => failureAnswer(received, planned, failure),
  };
}

/** The FHIR R4 ingestor: `POST /v1/ingest/fhir`. */
export const fhirIngestor = defineIngestor({
  name: 'fhir',
  description: 'FHIR R4 Bundles (transaction, batch, collection, message) and single resources, as JSON.',
  ingest: ingestFhir,
});
