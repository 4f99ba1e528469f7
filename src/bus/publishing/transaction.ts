import type { EventDefinition } from '../../events/define-event.ts';
import type {
  PublishOptions,
  PublishTransaction,
  StagedEvent,
  TransactionResult,
} from '../publisher-port.ts';
import { TransactionClosedError } from './errors.ts';
import type { PlacedEvent } from './placed-event.ts';

/** What a transaction needs from its publisher. */
export interface TransactionContext<Receipt> {
  /** Validates and places one event (throws on invalid input). */
  build: (definition: EventDefinition, data: unknown, options: PublishOptions) => PlacedEvent;
  /** Validates and places many events, all or none (throws on the first invalid one, naming its index). */
  buildMany: (
    definition: EventDefinition,
    data: readonly unknown[],
    options: Omit<PublishOptions, 'id'>,
  ) => PlacedEvent[];
  /** Appends every staged event in one all-or-nothing append (or buffers them as one group, appended so later). */
  commit: (placed: readonly PlacedEvent[]) => Promise<Receipt[]>;
}

const staged = (item: PlacedEvent): StagedEvent => ({
  id: item.event.id,
  type: item.event.type,
  topic: item.topic,
  partition: item.partition,
});

/**
 * Runs `work` with a transaction, then appends everything it staged in one append the transport makes
 * all-or-nothing across topics and partitions (`appendAtomically`: one SQLite transaction on the embedded
 * transport, a Kafka transaction on Kafka). If `work` throws, nothing is written and the error is rethrown.
 */
export async function runTransaction<Value, Receipt>(
  context: TransactionContext<Receipt>,
  work: (tx: PublishTransaction) => Promise<Value> | Value,
): Promise<TransactionResult<Value, Receipt>> {
  const placed: PlacedEvent[] = [];
  let open = true;
  const ensureOpen = () => {
    if (!open) throw new TransactionClosedError();
  };
  const tx: PublishTransaction = {
    publish(definition, data, options = {}) {
      ensureOpen();
      const item = context.build(definition, data, options);
      placed.push(item);
      return staged(item);
    },
    publishMany(definition, data, options = {}) {
      ensureOpen();
      const items = context.buildMany(definition, data, options);
      placed.push(...items);
      return items.map(staged);
    },
  };
  let value: Value;
  try {
    value = await work(tx);
  } finally {
    open = false;
  }
  const receipts = placed.length === 0 ? [] : await context.commit(placed);
  return { value, receipts };
}
