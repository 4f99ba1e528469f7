import { context as otelContext, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { activeTraceparent } from '../../observability/tracing.ts';
import { handlerContext } from '../test-support/handler-context.ts';
import type { HandlerFunction } from './middleware.ts';
import { tracing } from './tracing.ts';

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const eventWith = (parent?: string) =>
  ({
    id: 'e1',
    type: 't',
    source: 'urn:s',
    ...(parent === undefined ? {} : { traceparent: parent }),
  }) as CloudEvent;
const context = handlerContext({ topic: 'orders', partition: 3, offset: 7n });

describe('tracing middleware', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  // Created before any SDK is registered, as a router made at startup would be.
  const wrap = tracing({ system: 'keel' });
  beforeAll(() => {
    contextManager.enable();
    otelContext.setGlobalContextManager(contextManager);
  });
  afterAll(() => {
    trace.disable();
    otelContext.disable();
  });

  it('with no SDK, passes the trace context of the event on to what the handler publishes', async () => {
    const seen: Array<string | undefined> = [];
    const run = wrap((async () => {
      await Promise.resolve();
      seen.push(activeTraceparent());
    }) as HandlerFunction);
    await run(eventWith(traceparent), context);
    await run(eventWith(), context);
    expect(seen).toEqual([traceparent, undefined]);
  });

  it('with no SDK, passes synchronous throws and handlers that return no promise through as they are', () => {
    const throwing = wrap(() => {
      throw new Error('sync');
    });
    expect(() => throwing(eventWith(), context)).toThrow('sync');
    const plain = wrap(() => undefined);
    expect(plain(eventWith(), context)).toBeUndefined();
  });

  it('records a CONSUMER span per event once an SDK is registered, even after the middleware was made', async () => {
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    let active: string | undefined;
    await wrap((async () => {
      active = activeTraceparent();
    }) as HandlerFunction)(eventWith(traceparent), context);
    await expect(
      wrap(async () => {
        throw new TypeError('down');
      })(eventWith(), context),
    ).rejects.toThrow('down');
    const [ok, failed] = exporter.getFinishedSpans();
    expect(ok?.name).toBe('process orders');
    expect(ok?.kind).toBe(4);
    expect(ok?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(ok?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(ok?.status.code).toBe(1);
    expect(ok?.attributes).toMatchObject({
      'messaging.system': 'keel',
      'messaging.destination.name': 'orders',
      'messaging.destination.partition.id': '3',
      'messaging.consumer.group.name': 'g',
      'messaging.kafka.offset': 7,
      'keel.attempt': 1,
    });
    expect(active).toBe(`00-0af7651916cd43dd8448eb211c80319c-${ok?.spanContext().spanId}-01`);
    expect(failed?.status.code).toBe(2);
    expect(failed?.attributes['error.type']).toBe('TypeError');
  });
});
