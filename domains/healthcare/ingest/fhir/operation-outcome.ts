import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { IngestAnswer } from '../../../../src/index.ts';

/** The media type of FHIR JSON. */
export const FHIR_JSON = 'application/fhir+json';

/** One issue of an OperationOutcome: what, how bad, and where (a FHIRPath naming the entry and the element). */
export function issue(
  severity: OperationOutcomeIssue['severity'],
  code: OperationOutcomeIssue['code'],
  diagnostics: string,
  expression?: string,
): OperationOutcomeIssue {
  return { severity, code, diagnostics, ...(expression === undefined ? {} : { expression: [expression] }) };
}

/** An OperationOutcome answer with the given HTTP status. */
export function outcomeAnswer(status: number, issues: readonly OperationOutcomeIssue[]): IngestAnswer {
  const outcome: OperationOutcome = { resourceType: 'OperationOutcome', issue: [...issues] };
  return { status, contentType: FHIR_JSON, body: JSON.stringify(outcome) };
}
