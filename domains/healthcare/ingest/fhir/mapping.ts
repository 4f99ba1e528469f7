import type { CodeableConcept, Coding as FhirCoding, Reference, Resource } from '@medplum/fhirtypes';
import type { EventDefinition } from '../../../../src/index.ts';

/** One event a resource becomes, before its envelope is made. */
export interface MappedEvent {
  definition: EventDefinition;
  data: Record<string, unknown>;
}

/** What a mapper may ask about the bundle around a resource. */
export interface MappingContext {
  /** Id of the resource a reference points at (`Patient/123`, a bundle's `urn:uuid:...`, an absolute URL). */
  idOf(reference: Reference | undefined, type: string): string | undefined;
}

/** Turns one resource into the pack's events; throws UnmappableError naming the element it cannot do without. */
export type ResourceMapper<R extends Resource = Resource> = (
  resource: R,
  context: MappingContext,
) => MappedEvent[];

/** A valid resource that lacks an element its event needs: the ingestion refuses it, naming the element. */
export class UnmappableError extends Error {
  /** Stable code of the refusal. */
  readonly code = 'KEEL_FHIR_UNMAPPABLE';
  /** FHIRPath of the element, relative to the resource, e.g. `birthDate`. */
  readonly element: string;
  constructor(element: string, message: string) {
    super(message);
    this.name = 'UnmappableError';
    this.element = element;
  }
}

/** The value, or an UnmappableError naming the element when it is absent. */
export function need<T>(value: T | undefined | null, element: string, what: string): T {
  if (value === undefined || value === null || value === '') {
    throw new UnmappableError(element, `${element} is required: ${what}`);
  }
  return value;
}

/** The first coding of a concept as the pack's coding, or its text as the code when it has no coding. */
export function codingOf(
  concept: CodeableConcept | undefined,
): { system?: string; code: string; display?: string } | undefined {
  const first: FhirCoding | undefined = concept?.coding?.find((coding) => coding.code);
  if (first?.code) {
    return {
      ...(first.system ? { system: first.system } : {}),
      code: first.code,
      ...(first.display || concept?.text ? { display: first.display ?? concept?.text } : {}),
    };
  }
  return concept?.text ? { code: concept.text, display: concept.text } : undefined;
}

/** Whether a concept holds a coding with this code (any system, or the given one). */
export function hasCode(concepts: readonly CodeableConcept[] | undefined, code: string): boolean {
  return (concepts ?? []).some((concept) => (concept.coding ?? []).some((coding) => coding.code === code));
}

/** Keeps only the members that are defined (zod's optional fields refuse `undefined` in some schemas). */
export function defined(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined));
}

/** Where the event came from: the resource and its version. */
export function originOf(resource: Resource): { format: 'fhir'; reference: string } {
  const version = resource.meta?.versionId;
  return {
    format: 'fhir',
    reference: `${resource.resourceType}/${resource.id ?? '(no id)'}${version ? `/_history/${version}` : ''}`,
  };
}

/**
 * A FHIR dateTime or instant as an ISO 8601 instant in UTC: a date alone (`2013-04-02`) becomes its midnight
 * UTC; throws UnmappableError naming the element when it is absent or not a date.
 */
export function instantOf(value: string | undefined, element: string, what: string): string {
  const time = Date.parse(need(value, element, what));
  if (Number.isNaN(time)) throw new UnmappableError(element, `${element} is not a date: ${value}`);
  return new Date(time).toISOString();
}
