import { z } from 'zod';
import { healthcareEvent } from '../define.ts';
import { id, instant } from './shared.ts';

/** A FHIR bundle (or single resource) was received and published as the events of its resources. */
export const FhirBundleReceived = healthcareEvent({
  type: 'healthcare.ingest.fhir-bundle.received',
  version: 1,
  description:
    'A FHIR R4 bundle or resource was received; which resources it held and which events they became.',
  schema: z.object({
    bundleId: z.string().min(1),
    bundleType: z.enum(['transaction', 'batch', 'collection', 'message', 'resource']),
    resources: z.array(
      z.object({
        resourceType: z.string().min(1),
        id: z.string().optional(),
        versionId: z.string().optional(),
        /** Event types the resource became; empty when the pack maps none. */
        events: z.array(z.string()),
      }),
    ),
    patientIds: z.array(id),
  }),
  partitionKey: (data) => data.bundleId,
  example: {
    bundleId: 'bundle-7f3a',
    bundleType: 'transaction',
    resources: [
      { resourceType: 'Patient', id: 'example', versionId: '1', events: ['healthcare.patient.created'] },
      { resourceType: 'Practitioner', id: 'dr-7', events: [] },
    ],
    patientIds: ['example'],
  },
});

/** An HL7 v2 message was received; kept raw so that no message is ever lost, mapped or not. */
export const Hl7MessageReceived = healthcareEvent({
  type: 'healthcare.ingest.hl7-message.received',
  version: 1,
  description: 'An HL7 v2 message was received (raw ER7 kept), mapped to events or stored as it came.',
  schema: z.object({
    messageControlId: z.string().min(1),
    messageType: z.string().min(1).describe('MSH-9, e.g. ADT^A01'),
    sendingApplication: z.string().optional(),
    sendingFacility: z.string().optional(),
    patientId: id.optional(),
    raw: z.string().min(1),
    mapped: z.boolean(),
    receivedAt: instant,
  }),
  partitionKey: (data) => data.patientId ?? data.messageControlId,
  example: {
    messageControlId: 'MSG00001',
    messageType: 'ADT^A01',
    sendingApplication: 'EPIC',
    sendingFacility: 'GENHOSP',
    patientId: 'patient-123',
    raw: 'MSH|^~\\&|EPIC|GENHOSP|KEEL|KEEL|202412021000||ADT^A01|MSG00001|P|2.5.1\rPID|1||patient-123||Doe^John',
    mapped: true,
    receivedAt: '2024-12-02T10:00:01Z',
  },
});

/** A batch file was ingested: how many lines it held, took and refused. */
export const BatchFileReceived = healthcareEvent({
  type: 'healthcare.ingest.batch-file.received',
  version: 1,
  description:
    'A batch file (NDJSON, FHIR bulk-data NDJSON, HL7 batch) was ingested; lines accepted and rejected.',
  schema: z.object({
    fileName: z.string().min(1),
    format: z.enum(['ndjson', 'fhir-ndjson', 'hl7-batch']),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    lines: z.number().int().nonnegative(),
    accepted: z.number().int().nonnegative(),
    rejected: z.number().int().nonnegative(),
    receivedAt: instant,
  }),
  partitionKey: (data) => data.sha256,
  example: {
    fileName: 'patients-2024-12-02.ndjson',
    format: 'fhir-ndjson',
    sha256: 'a3f1c2d4e5b6a7980112233445566778899aabbccddeeff00112233445566778',
    lines: 1000,
    accepted: 997,
    rejected: 3,
    receivedAt: '2024-12-02T02:00:00Z',
  },
});

/** Every ingestion event type. */
export const ingestionEvents = [FhirBundleReceived, Hl7MessageReceived, BatchFileReceived] as const;
