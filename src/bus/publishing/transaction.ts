import type { EventData, EventDefinition } from '../../events/define-event.ts';
import type { PublishOptions } from '../types.ts';
import { TransactionClosedError } from './errors.ts';
import type { PlacedEvent } from './placed-event.ts';

/** An event staged in a transaction: where it will be appended if the transaction commits. */
export interface StagedEvent {
  id: string;
  type: string;
  topic: string;
  partition: number;
}

/**
 * Stages events for one all-or-nothing append. Staging is synchronous: invalid data throws at the
 * call, and `await tx.publish(...)` and a bare `tx.publish(...)` behave alike.
 */
export interface PublishTransaction {
  /** Validates and stages one typed event (routed by the catalog, like `publisher.publish`). */
  publish<Definition extends EventDefinition>(
    definition: Definition,
    data: EventData<Definition>,
    options?: PublishOptions,
  ): StagedEvent;
  /** Validates and stages many typed events of one type; if any is invalid, none of them is staged. */
  publishMany<Definition extends EventDefinition>(
    definition: Definition,
    data: readonly EventData<Definition>[],
    options?: Omit<PublishOptions, 'id'>,
  ): StagedEvent[];
}

/** What a committed transaction gives back: the callback's value and one receipt per staged event, in order. */
export interface TransactionResult<Value, Receipt> {
  value: Value;
  receipts: Receipt[];
}

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
