import {
  INVALID_SPAN_CONTEXT,
  context as otelContext,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { contextFromTraceparent, tracer, tracingIsOff } from '../../observability/tracing.ts';
import type { Middleware } from './middleware.ts';

/** Tracing options. */
export interface TracingOptions {
  /** `messaging.system` attribute: `kafka` on the Kafka transport, `keel` on the embedded one. */
  system: string;
}

const consumerSpan = { kind: SpanKind.CONSUMER };
// What the no-op tracer's span for an event without trace context makes active: the same every time.
const untraced = trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext(INVALID_SPAN_CONTEXT));

/**
 * Runs each handler in a CONSUMER span named `process <topic>`, child of the span in the event's
 * `traceparent`, with OpenTelemetry's messaging attributes; the span is active while the handler runs,
 * so events it publishes carry a `traceparent` naming it. A batch call is one span, child of its first
 * event's trace, with `messaging.batch.message_count`.
 */
export function tracing(options: TracingOptions): Middleware {
  // A chain sees its source topic and, on delayed retries, a few more: build the name when it changes.
  let lastTopic: string | undefined;
  let lastName = '';
  const spanName = (topic: string) => {
    if (topic !== lastTopic) {
      lastTopic = topic;
      lastName = `process ${topic}`;
    }
    return lastName;
  };
  return (next) => (event, context) => {
    // Checked on every event, so an SDK registered after the router was created still gets its spans.
    if (tracingIsOff()) return next(event, context);
    const parent = contextFromTraceparent(event.traceparent);
    const span = tracer.startSpan(spanName(context.topic), consumerSpan, parent);
    if (!span.isRecording()) {
      // Nothing records this span (no SDK, or not sampled): there is nothing to annotate, set or end, so
      // no frame waits for the handler. The span is still made active, so events the handler publishes
      // carry its trace context (the parent's, or the unsampled trace an SDK started) on.
      const active =
        parent === ROOT_CONTEXT && span.spanContext() === INVALID_SPAN_CONTEXT
          ? untraced
          : trace.setSpan(parent, span);
      return otelContext.with(active, next, undefined, event, context);
    }
    span.setAttributes({
      'messaging.system': options.system,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': context.topic,
      'messaging.destination.partition.id': String(context.partition),
      'messaging.consumer.group.name': context.group,
      'messaging.message.id': event.id,
      'messaging.kafka.offset': Number(context.offset),
      'cloudevents.event_id': event.id,
      'cloudevents.event_type': event.type,
      'cloudevents.event_source': event.source,
      'keel.handler': context.handler,
      'keel.attempt': context.attempt,
      ...(event.partitionkey === undefined ? {} : { 'messaging.kafka.message.key': event.partitionkey }),
    });
    if (context.batch !== undefined) span.setAttribute('messaging.batch.message_count', context.batch.length);
    return otelContext.with(trace.setSpan(parent, span), async () => {
      try {
        await next(event, context);
        span.setStatus({ code: SpanStatusCode.OK });
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        span.setAttribute('error.type', (error as Error).name ?? 'Error');
        throw error;
      } finally {
        span.end();
      }
    });
  };
}
