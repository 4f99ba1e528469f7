export { defaultLogger } from './logger.ts';
export type { KeelMetrics, MetricsOptions } from './metrics.ts';
export { createMetrics } from './metrics.ts';
export { activeTraceparent, contextFromTraceparent, tracer } from './tracing.ts';
