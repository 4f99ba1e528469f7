import {
  type Context,
  context as otelContext,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

// Where every copy of the OpenTelemetry API 1.x registers its globals (tracer provider, context
// manager, ...): one object shared across the process, keyed by the API's major version.
const otelGlobals = Symbol.for('opentelemetry.js.api.1');

/**
 * True while no tracer provider and no context manager are registered with the OpenTelemetry API: a span
 * would then record nothing and could not be made active, so tracing has no effect at all and may skip
 * its per-event work. Reads the API's shared registry, which costs a property read where asking through
 * the API costs a span, a context lookup and a call through the no-op context manager on every event.
 */
export function tracingIsOff(): boolean {
  const registered = (globalThis as { [otelGlobals]?: { trace?: unknown; context?: unknown } })[otelGlobals];
  return registered === undefined || (registered.trace === undefined && registered.context === undefined);
}

/** The tracer Keel's spans are made with (a no-op until the application registers an OpenTelemetry SDK). */
export const tracer = trace.getTracer('keel');

/**
 * A W3C `traceparent` for the active span, or undefined when there is none. Written by hand rather than
 * through the global propagator so events carry trace context even when the app configured none.
 */
export function activeTraceparent(): string | undefined {
  if (tracingIsOff()) return undefined;
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!trace.isSpanContextValid(span.spanContext())) return undefined;
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A context whose parent is the remote span a `traceparent` names (the root context when it is absent or malformed). */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (!match) return ROOT_CONTEXT;
  const spanContext: SpanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  return trace.isSpanContextValid(spanContext)
    ? trace.setSpanContext(ROOT_CONTEXT, spanContext)
    : ROOT_CONTEXT;
}

/**
 * Runs `work` in a SERVER span named `<method> <route>`, child of the request's `traceparent` header, so the
 * events it publishes (and their consumers' spans) join the caller's trace; the span ends with the answer's
 * status (`status()`, read once `work` settled). Without an SDK it only runs `work`.
 */
export async function inServerSpan<T>(
  request: { method: string; route: string; traceparent: string | undefined },
  work: () => Promise<T>,
  status: () => number,
): Promise<T> {
  if (tracingIsOff()) return work();
  const parent = contextFromTraceparent(request.traceparent);
  const span = tracer.startSpan(
    `${request.method} ${request.route}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'http.route': request.route },
    },
    parent,
  );
  try {
    return await otelContext.with(trace.setSpan(parent, span), work);
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    const code = status();
    span.setAttribute('http.response.status_code', code);
    if (code >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}
