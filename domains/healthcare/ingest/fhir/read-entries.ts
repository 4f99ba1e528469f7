import { createHash } from 'node:crypto';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { issue } from './operation-outcome.ts';

/** Bundle types the ingestion takes, and `resource` for a resource sent alone. */
export type BundleKind = 'transaction' | 'batch' | 'collection' | 'message' | 'resource';

/** One resource to ingest and where it sits in the request (`Bundle.entry[2].resource`, or its type). */
export interface Entry {
  resource: Resource;
  /** FHIRPath prefix naming it in issues. */
  path: string;
  /** Its `fullUrl` in the bundle, when it has one. */
  fullUrl: string | undefined;
}

/** What a request holds: the bundle (if it is one), its kind, the entries, and a hash of its content. */
export interface Received {
  bundle: Bundle | undefined;
  kind: BundleKind;
  entries: Entry[];
  /** SHA-256 (hex) of the request's JSON with keys sorted: the same content gives the same hash. */
  contentHash: string;
}

const KINDS: readonly string[] = ['transaction', 'batch', 'collection', 'message'];

/** SHA-256 (hex) of a JSON value with object keys sorted at every depth. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`).join(',')}}`;
}

/**
 * Reads the parsed body into entries, or the issues that refuse it: not a resource, a bundle type the
 * ingestion does not take, an entry without a resource.
 */
export function readEntries(json: unknown): Received | { issues: OperationOutcomeIssue[] } {
  const resource = json as Partial<Resource> | null;
  if (
    typeof resource !== 'object' ||
    resource === null ||
    Array.isArray(resource) ||
    typeof resource.resourceType !== 'string'
  ) {
    return {
      issues: [
        issue(
          'error',
          'structure',
          'the body is not a FHIR resource: it has no resourceType',
          'resourceType',
        ),
      ],
    };
  }
  const hash = contentHash(json);
  if (resource.resourceType !== 'Bundle') {
    const path = resource.resourceType;
    return {
      bundle: undefined,
      kind: 'resource',
      entries: [{ resource: resource as Resource, path, fullUrl: undefined }],
      contentHash: hash,
    };
  }
  const bundle = resource as Bundle;
  if (!KINDS.includes(bundle.type)) {
    return {
      issues: [
        issue(
          'error',
          'not-supported',
          `a Bundle of type "${bundle.type}" is not ingested: send a transaction, batch, collection or message`,
          'Bundle.type',
        ),
      ],
    };
  }
  const issues: OperationOutcomeIssue[] = [];
  const entries: Entry[] = [];
  (bundle.entry ?? []).forEach((entry, index) => {
    const path = `Bundle.entry[${index}].resource`;
    if (!entry.resource || typeof entry.resource.resourceType !== 'string') {
      issues.push(issue('error', 'required', 'the entry has no resource', path));
      return;
    }
    entries.push({ resource: entry.resource, path, fullUrl: entry.fullUrl });
  });
  return issues.length > 0
    ? { issues }
    : { bundle, kind: bundle.type as BundleKind, entries, contentHash: hash };
}
