import type { InstanceRow } from './backend.ts';
import type { WorkflowInstanceView } from './engine-types.ts';
import { WorkflowWaitTimeoutError } from './errors.ts';
import { isTerminal } from './instance-state.ts';

/** Callers of `waitForEnd`, woken at once when an instance's drive in this process finishes. */
export interface EndWaiters {
  /** Wakes the waiters of an instance (its drive here has finished: it may have ended). */
  notify(instanceId: string): void;
  /**
   * Resolves with the instance once its row shows it ended; rejects with WorkflowWaitTimeoutError after
   * `timeoutMs`. Ends in this process wake it at once; others are seen by polling the row.
   */
  wait(
    instanceId: string,
    timeoutMs: number,
    getRow: (instanceId: string) => Promise<InstanceRow | undefined>,
    view: (instanceId: string) => Promise<WorkflowInstanceView>,
  ): Promise<WorkflowInstanceView>;
}

/** Milliseconds between looks at the row of an instance waited on. */
const POLL_MS = 100;

/** Creates the end waiters of an engine. */
export function createEndWaiters(): EndWaiters {
  const waiters = new Map<string, Set<() => void>>();
  return {
    notify(instanceId) {
      for (const wake of waiters.get(instanceId) ?? []) wake();
    },
    async wait(instanceId, timeoutMs, getRow, view) {
      const deadline = Date.now() + timeoutMs;
      let set = waiters.get(instanceId);
      if (set === undefined) {
        set = new Set();
        waiters.set(instanceId, set);
      }
      const own = set;
      let wake: () => void = () => {};
      try {
        for (;;) {
          const row = await getRow(instanceId);
          // An unknown instance may yet be started (by a trigger whose event is on its way): wait for it too.
          if (row !== undefined && isTerminal(row.status)) return await view(instanceId);
          const left = deadline - Date.now();
          if (left <= 0) throw new WorkflowWaitTimeoutError(instanceId, timeoutMs, row?.status);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, Math.min(left, POLL_MS));
            wake = done;
            own.add(done);
            function done() {
              clearTimeout(timer);
              own.delete(done);
              resolve();
            }
          });
        }
      } finally {
        own.delete(wake);
        if (own.size === 0) waiters.delete(instanceId);
      }
    },
  };
}
