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
    async acquire() {
      while (held >= limit) await new Promise<void>((resolve) => waiters.push(resolve));
      held++;
    },
    release() {
      held--;
      waiters.shift()?.();
    },
  };
}
