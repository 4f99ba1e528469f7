// The healthcare domain pack: the catalog `keel start` loads when KEEL_CATALOG is not set. It uses only Keel's
// public API, as a pack of one's own would; set KEEL_CATALOG to a module of yours to load another catalog.
import { createCatalog } from '../../src/index.ts';
import { fhirIngestor } from './ingest/fhir/fhir-ingestor.ts';
import { healthcareTopics } from './topics.ts';

export * from './events/agents.ts';
export * from './events/appointment.ts';
export * from './events/clinical.ts';
export * from './events/encounter.ts';
export * from './events/ingestion.ts';
export * from './events/journey.ts';
export * from './events/operations.ts';
export * from './events/patient.ts';
export * from './events/revenue-cycle.ts';
export * from './topics.ts';

/** The healthcare catalog: every event type of the pack on its topic. */
export const catalog = createCatalog({ topics: healthcareTopics });

/** Formats the node takes at `POST /v1/ingest/<name>`: FHIR R4. */
export const ingestors = [fhirIngestor];

export default catalog;
