import type { Logger } from 'pino';
import { createDeliveryManager, type DeliveryManager } from '../../delivery/delivery-manager.ts';
import { openDeliveryStore } from '../../delivery/delivery-store.ts';
import { createPullGroups, type PullGroups } from '../../delivery/pull/pull-groups.ts';
import type { Catalog } from '../../events/catalog.ts';
import type { KeelMetrics } from '../../observability/metrics.ts';
import type { GroupAdmin } from '../../transport/group-admin.ts';
import type { Transport } from '../../transport/transport.ts';

/** The node's push subscriptions and HTTP consumer groups, and how to stop both. */
export interface NodeDelivery {
  readonly delivery: DeliveryManager;
  readonly pull: PullGroups;
  /** Stops the subscriptions' routers and the HTTP groups' members, and closes the subscription tables; never throws. */
  close(): Promise<void>;
}

/** Opens push delivery (its tables in the node's SQLite file) and the HTTP consumer groups on the transport. */
export function openNodeDelivery(options: {
  path: string;
  synchronous: 'normal' | 'full';
  transport: Transport;
  groupAdmin: GroupAdmin;
  catalog: Catalog;
  metrics: KeelMetrics;
  logger: Logger;
}): NodeDelivery {
  const { logger } = options;
  const store = openDeliveryStore(options);
  const delivery = createDeliveryManager({ ...options, store });
  const pull = createPullGroups(options.transport);
  return {
    delivery,
    pull,
    async close() {
      await delivery
        .close()
        .catch((error: unknown) => logger.error({ err: error }, 'closing delivery failed'));
      store.close();
      await pull
        .close()
        .catch((error: unknown) => logger.error({ err: error }, 'closing HTTP consumers failed'));
    },
  };
}
