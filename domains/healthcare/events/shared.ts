import { z } from 'zod';

/** A platform id (patient, appointment, claim...): non-empty, at most 128 characters. */
export const id = z.string().min(1).max(128);

/** A point in time with its offset, ISO 8601 (`2024-11-24T10:30:00Z`). */
export const instant = z.iso.datetime({ offset: true });

/** A code from a code system (LOINC, SNOMED CT, ICD-10, RxNorm...), as FHIR's Coding. */
export const coding = z.object({
  system: z.string().min(1).optional(),
  code: z.string().min(1),
  display: z.string().optional(),
});

/** An amount of money: a decimal value and its ISO 4217 currency. */
export const money = z.object({ value: z.number().nonnegative(), currency: z.string().length(3) });

/** A measured value and its unit (UCUM where known). */
export const quantity = z.object({ value: z.number(), unit: z.string().min(1) });

/** Where a fact came from when it arrived through ingestion: the FHIR resource or HL7 message behind it. */
export const origin = z
  .object({
    /** `fhir` or `hl7v2`. */
    format: z.enum(['fhir', 'hl7v2']),
    /** `Patient/123/_history/2`, or the HL7 message control id. */
    reference: z.string().min(1),
  })
  .optional();
