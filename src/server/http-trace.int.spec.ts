import { context as otelContext, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatientCreated, PatientUpdated } from '../../examples/catalog.ts';
import { createRouter } from '../bus/router.ts';
import { request } from './test-support/api-fixture.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

describe('an OpenTelemetry trace from an HTTP publish through the consumer and the events it publishes', () => {
  const exporter = new InMemorySpanExporter();
  let temp: TempNode;

  beforeAll(async () => {
    otelContext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    temp = await startTempNode();
  });
  afterAll(async () => {
    await temp.close();
    trace.disable();
    otelContext.disable();
  });

  it('is one trace: the caller, the POST, the handler, the event it published, and that event’s handler', async () => {
    const { node } = temp;
    let updatesHandled = 0;
    const router = createRouter({ transport: node.transport, catalog: node.catalog, group: 'traced' });
    router.on(PatientCreated, async (event) => {
      await node.publisher.publish(PatientUpdated, {
        patientId: event.data!.patientId,
        changes: { seen: true },
      });
    });
    router.on(PatientUpdated, () => {
      updatesHandled++;
    });
    await router.start();
    try {
      const answer = await request(
        node,
        'POST',
        '/v1/events',
        {
          specversion: '1.0',
          id: 'traced-1',
          source: 'urn:test:frontdesk',
          type: PatientCreated.type,
          data: { patientId: 'p-traced', firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1815-12-10' },
        },
        {
          traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
          'content-type': 'application/cloudevents+json',
        },
      );
      expect(answer.statusCode).toBe(201);
      const deadline = Date.now() + 15_000;
      while (updatesHandled === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(updatesHandled).toBe(1);
    } finally {
      await router.close();
    }

    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === CALLER_TRACE);
    const server = spans.find((s) => s.name === 'POST /v1/events')!;
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(server.attributes['http.response.status_code']).toBe(201);
    const processing = spans.filter((s) => s.kind === SpanKind.CONSUMER);
    expect(processing).toHaveLength(2);
    const [created, updated] = processing.sort(
      (a, b) => a.startTime[1] - b.startTime[1] + (a.startTime[0] - b.startTime[0]) * 1e9,
    );
    // The handler of the posted event is a child of the POST; the handler of the event it published, its child.
    expect(created!.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(updated!.parentSpanContext?.spanId).toBe(created!.spanContext().spanId);
    expect(created!.attributes['messaging.consumer.group.name']).toBe('traced');
  });
});
