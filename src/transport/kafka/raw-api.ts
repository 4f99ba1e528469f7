import { type API, type Base, type Broker, type Connection, kGetApi } from '@platformatic/kafka';

/**
 * The newest version of a Kafka API that both the brokers and the client speak, for the few requests the
 * adapter sends itself (offset commits fenced on its own generation, heartbeats while a revoke callback runs,
 * produce requests with the sequence numbers of its idempotent sender).
 */
export function negotiatedApi<Args extends unknown[], Response>(
  client: Base,
  name: 'OffsetCommit' | 'Heartbeat' | 'Produce',
): Promise<API<Args, Response>> {
  return new Promise((resolve, reject) => {
    client[kGetApi]<Args, Response>(name, (error, api) => {
      if (error || api === undefined) reject(error ?? new Error(`no usable ${name} API`));
      else resolve(api);
    });
  });
}

/** A connection of the client's pool to `broker`. */
export function connectionTo(client: Base, broker: Broker): Promise<Connection> {
  return client.connections.get(broker);
}
