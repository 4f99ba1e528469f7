/** At most `limit` holders at once; the others wait in arrival order. */
export interface Slots {
  /** Resolves once a slot is held. */
  acquire(): Promise<void>;
  /** Gives a held slot to the next waiter. */
  release(): void;
}

/** Creates a limit of `limit` slots (the router's handler concurrency). */
export function createSlots(limit: number): Slots {
  let held = 0;
  const waiters: Array<() => void> = [];
  return {
    acquire() {
      // Nobody may pass a waiter: a free slot with waiters queued is already promised to the first of them.
      if (held < limit && waiters.length === 0) {
        held++;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    release() {
      // A released slot goes straight to the first waiter (still held), so a caller arriving in between
      // cannot take it first.
      const next = waiters.shift();
      if (next === undefined) held--;
      else next();
    },
  };
}
