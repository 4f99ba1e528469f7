import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { mapCondition, mapEncounter, mapMedicationRequest, mapObservation } from './map-clinical.ts';
import { mapAppointment, mapClaim, mapClaimResponse } from './map-financial.ts';
import { mapPatient } from './map-patient.ts';
import { type MappedEvent, type MappingContext, type ResourceMapper, UnmappableError } from './mapping.ts';
import { issue } from './operation-outcome.ts';
import type { Entry } from './read-entries.ts';
import { validateFhir } from './validator.ts';

/** The mapper of each resource type the pack turns into events; other types are validated and listed only. */
const MAPPERS: Record<string, ResourceMapper<never>> = {
  Patient: mapPatient,
  Encounter: mapEncounter,
  Observation: mapObservation,
  Condition: mapCondition,
  MedicationRequest: mapMedicationRequest,
  Appointment: mapAppointment,
  Claim: mapClaim,
  ClaimResponse: mapClaimResponse,
};

/** What one entry became: its events, or the issues that refuse it. */
export interface CheckedEntry {
  entry: Entry;
  events: MappedEvent[];
  issues: OperationOutcomeIssue[];
}

/** `Patient.name[0].given` of a resource validated alone, as it is named in the request. */
function located(expression: string, resource: Resource, path: string): string {
  return expression.startsWith(resource.resourceType)
    ? `${path}${expression.slice(resource.resourceType.length)}`
    : `${path}.${expression}`;
}

/**
 * Validates an entry's resource against its R4 StructureDefinition, maps it to events and checks each event's
 * data against the catalog; every problem becomes an issue whose expression names the entry and the element.
 */
export function checkEntry(entry: Entry, context: MappingContext): CheckedEntry {
  const { resource, path } = entry;
  const found = validateFhir(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (found.length > 0) {
    const issues = found.map((i) =>
      issue(
        'error',
        i.code,
        i.details?.text ?? i.diagnostics ?? 'invalid',
        located(i.expression?.[0] ?? '', resource, path),
      ),
    );
    return { entry, events: [], issues };
  }
  const mapper = MAPPERS[resource.resourceType] as ResourceMapper | undefined;
  let events: MappedEvent[];
  try {
    events = mapper ? mapper(resource, context) : [];
  } catch (error) {
    if (!(error instanceof UnmappableError)) throw error;
    return {
      entry,
      events: [],
      issues: [issue('error', 'required', error.message, `${path}.${error.element}`)],
    };
  }
  const issues = events.flatMap(({ definition, data }) => {
    const parsed = definition.schema.safeParse(data);
    return parsed.success
      ? []
      : parsed.error.issues.map((i) =>
          issue('error', 'processing', `${definition.type} data.${i.path.join('.')}: ${i.message}`, path),
        );
  });
  return { entry, events: issues.length > 0 ? [] : events, issues };
}
