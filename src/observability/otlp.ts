import { context as otelContext, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Where and as what a process exports its spans over OTLP/HTTP. */
export interface OtlpTracingOptions {
  /** `service.name` of the spans; default `OTEL_SERVICE_NAME`, else `keel`. */
  serviceName?: string;
  /**
   * The collector's traces URL (e.g. `http://127.0.0.1:4318/v1/traces`); default what the exporter reads from
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`.
   */
  url?: string;
}

/** A running tracing setup: `shutdown` exports what is still buffered and unregisters it. */
export interface OtlpTracing {
  shutdown(): Promise<void>;
}

/** Whether the environment names an OTLP collector (the OpenTelemetry SDK's own variables). */
export function otlpConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/**
 * Registers the OpenTelemetry SDK for this process: spans batched and exported over OTLP/HTTP (JSON) to a
 * collector, and an async-hooks context manager so a span started in a request stays active across its
 * awaits. Keel's spans (HTTP publish, each handler's processing) then record; without this they cost nothing.
 */
export function startOtlpTracing(options: OtlpTracingOptions = {}): OtlpTracing {
  const serviceName = options.serviceName ?? process.env.OTEL_SERVICE_NAME ?? 'keel';
  const exporter = new OTLPTraceExporter(options.url === undefined ? {} : { url: options.url });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000 })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  otelContext.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      otelContext.disable();
      propagation.disable();
    },
  };
}
