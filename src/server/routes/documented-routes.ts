import { z } from 'zod';
import type { ApiRegistry } from '../api/route.ts';

const receiptSchema = z.object({
  id: z.string(),
  type: z.string(),
  topic: z.string(),
  partition: z.int(),
  offset: z.string().describe('Offset in the partition, as digits.'),
  replayed: z
    .literal(true)
    .optional()
    .describe('Present when an earlier request had stored this event (same source, id and content).'),
});

/**
 * Describes the routes registered by hand (the CloudEvents ingestion route reads its body itself; health
 * and metrics are outside `/v1`) so the OpenAPI document lists every operation of the node.
 */
export function documentHandWrittenRoutes(api: ApiRegistry): void {
  api.document({
    method: 'POST',
    url: '/v1/events',
    operationId: 'publishEvents',
    summary: 'Publish one event or a batch (CloudEvents HTTP binding: structured, batch and binary modes)',
    description:
      'Binary mode: the event data as the body with `ce-*` headers. A batch is stored all or nothing; a bad ' +
      'event is named by its `index`.\n\n**Idempotent**: an event whose `source` + `id` was stored within the ' +
      'retention window (`KEEL_IDEMPOTENCY_RETENTION_MS`, default 24 h) with the same content is not stored ' +
      'again: its receipt is the first one, marked `replayed`, and the answer is 201 as the first time ' +
      '(header `idempotent-replayed: true` when every event was replayed). The same `source` + `id` with ' +
      'different content is refused with 409 (`idempotency-conflict`, naming the id) and nothing of the ' +
      'request is written. Trace context (`traceparent`, `tracestate`) is not part of the content.',
    tag: 'events',
    body: z
      .union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))])
      .describe('A CloudEvent (structured), an array of CloudEvents (batch), or the data (binary mode).'),
    bodyMediaTypes: [
      'application/cloudevents+json',
      'application/cloudevents-batch+json',
      'application/json',
    ],
    answer: z.object({ events: z.array(receiptSchema) }),
    status: 201,
    problems: [409, 413, 415, 503],
  });
  api.document({
    method: 'POST',
    url: '/v1/ingest/:ingestor',
    operationId: 'ingest',
    summary: 'Ingest a message of an outside format (e.g. `fhir`: a FHIR R4 Bundle or resource) as events',
    description:
      "The catalog module's `ingestors` say which formats the node takes. The named ingestor reads the body " +
      'into events, published all or nothing, and answers in its own format: `fhir` answers a ' +
      '`transaction-response` or `batch-response` Bundle, or an `OperationOutcome` (refusals name the entry ' +
      'and the element). Events of a resource are keyed by resource type, id and `meta.versionId`: a ' +
      'repeated bundle publishes nothing new (within the idempotency window).',
    tag: 'events',
    params: z.object({ ingestor: z.string().describe('The ingestor, e.g. `fhir`') }),
    body: z.record(z.string(), z.unknown()).describe('A message of the format, e.g. a FHIR Bundle.'),
    bodyMediaTypes: ['application/fhir+json', 'application/json'],
    answer: z.record(z.string(), z.unknown()).describe("The ingestor's answer, e.g. a FHIR Bundle."),
    answerMediaType: 'application/fhir+json',
    status: 200,
    problems: [404],
  });
  api.document({
    method: 'GET',
    url: '/healthz',
    operationId: 'liveness',
    summary: 'The process answers',
    tag: 'health',
    answer: z.object({ status: z.literal('ok') }),
  });
  api.document({
    method: 'GET',
    url: '/readyz',
    operationId: 'readiness',
    summary: 'The transport is usable (503 with the reason otherwise)',
    tag: 'health',
    answer: z.object({ status: z.literal('ready'), transport: z.string() }),
    problems: [503],
  });
  api.document({
    method: 'GET',
    url: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics in the text exposition format',
    tag: 'health',
    answer: z.string(),
    answerMediaType: 'text/plain',
  });
}
