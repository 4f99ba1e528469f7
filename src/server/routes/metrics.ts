import type { FastifyInstance } from 'fastify';
import type { KeelMetrics } from '../../observability/metrics.ts';

/** Registers `GET /metrics`: the registry in Prometheus text format. */
export function registerMetricsRoute(app: FastifyInstance, metrics: KeelMetrics): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
