import { context as otelContext, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { activeTraceparent, tracingIsOff } from './tracing.ts';

describe('tracingIsOff', () => {
  afterEach(() => {
    trace.disable();
    otelContext.disable();
  });

  it('is true until a tracer provider or a context manager is registered through the API, and again after', () => {
    expect(tracingIsOff()).toBe(true);
    const contextManager = new AsyncLocalStorageContextManager().enable();
    otelContext.setGlobalContextManager(contextManager);
    expect(tracingIsOff()).toBe(false);
    otelContext.disable();
    expect(tracingIsOff()).toBe(true);
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    expect(tracingIsOff()).toBe(false);
    trace.disable();
    expect(tracingIsOff()).toBe(true);
  });

  it('with an SDK registered, activeTraceparent names the active span', () => {
    otelContext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    const span = trace.getTracer('t').startSpan('s');
    const inside = otelContext.with(trace.setSpan(otelContext.active(), span), activeTraceparent);
    span.end();
    expect(inside).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    expect(activeTraceparent()).toBeUndefined();
  });
});
