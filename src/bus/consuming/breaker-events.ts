import type { Logger } from 'pino';
import { createEvent } from '../../events/create-event.ts';
import { toRecord } from '../../events/kafka-binding.ts';
import type { Transport } from '../../transport/transport.ts';
import type { CircuitBreakerState } from '../middleware/circuit-breaker.ts';
import { CircuitBreakerStateChanged, SystemTopic } from '../system-events.ts';

/** Records each breaker state change as a CircuitBreakerStateChanged event on Keel's system topic. */
export function breakerChangeRecorder(
  transport: Transport,
  source: string,
  logger: Logger,
): (name: string, state: CircuitBreakerState) => void {
  return (name, state) => {
    const event = createEvent(CircuitBreakerStateChanged, { name, state }, { source });
    transport
      .append([{ topic: SystemTopic.name, partition: 0, records: [toRecord(event, { validated: true })] }])
      .catch((error: unknown) =>
        logger.error({ err: error, breaker: name }, 'cannot record a breaker change'),
      );
  };
}
