import type { FastifyInstance } from 'fastify';
import type { Transport } from '../../transport/transport.ts';
import { problem, sendProblem } from '../problem.ts';

/** What the health routes need. */
export interface HealthRoutesOptions {
  transport: Transport;
  /** A topic whose offsets are read to prove the transport answers. */
  probeTopic: string | undefined;
  /** Why the node is not ready regardless of the transport (e.g. shutting down), or undefined. */
  notReadyReason: () => string | undefined;
}

/** Registers `GET /healthz` (the process answers) and `GET /readyz` (the transport is usable; 503 with the reason otherwise). */
export function registerHealthRoutes(app: FastifyInstance, options: HealthRoutesOptions): void {
  const { transport, probeTopic, notReadyReason } = options;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const reason = notReadyReason();
    if (reason !== undefined) return sendProblem(reply, problem('not-ready', 503, 'Not ready', reason));
    try {
      // Reading offsets touches the log itself, so a closed or broken transport shows here.
      if (probeTopic === undefined) await transport.listTopics();
      else await transport.offsets(probeTopic);
    } catch (error) {
      const cause = error instanceof Error ? error.message : String(error);
      return sendProblem(
        reply,
        problem('not-ready', 503, 'Not ready', `transport ${transport.name} is not usable: ${cause}`),
      );
    }
    return { status: 'ready', transport: transport.name };
  });
}
