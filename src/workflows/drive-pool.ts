import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import type { Lease, WorkflowBackend } from './backend.ts';
import type { DriveHandle, DriverDependencies, DriveStart } from './drive-types.ts';
import type { WorkflowEngineSettings } from './engine-options.ts';
import { LeaseLostError, WorkflowEngineClosedError } from './errors.ts';
import { driveInstance } from './instance-driver.ts';
import type { WorkflowRegistry } from './registry.ts';
import type { WakeSignal } from './wake-signal.ts';

/** One instance this process drives now. */
interface ActiveInstance {
  handle: DriveHandle;
  stop: AbortController;
  cancel: AbortController;
  done: Promise<void>;
}

/** What the drive pool needs from its engine. */
export interface DrivePoolDependencies {
  backend: WorkflowBackend;
  registry: WorkflowRegistry;
  settings: Pick<
    WorkflowEngineSettings,
    'workerId' | 'concurrency' | 'leaseTtlMs' | 'pollIntervalMs' | 'claimBatch'
  >;
  logger: Logger;
  wake: WakeSignal;
  /** Whether the engine runs as a worker (claims stop once it is closing). */
  running(): boolean;
  /** Told each time a drive of an instance has finished. */
  onDriveEnd(instanceId: string): void;
}

/** The instances one process drives: claimed due ones (under renewed leases) and ones it started itself. */
export interface DrivePool {
  /** Instances driven now. */
  size(): number;
  /** Whether the instance is driven here now. */
  has(instanceId: string): boolean;
  /** Drives an instance under `lease` (fencing off an older drive of it still running here). */
  launch(instanceId: string, lease: Lease, start: DriveStart): void;
  /** Aborts the running action of an instance driven here (a cancel arrived). */
  cancel(instanceId: string): void;
  /** Starts claiming due instances and renewing leases; drives get `driver` as their dependencies. */
  start(driver: DriverDependencies): void;
  /** Waits for the claim loop to stop (once `running()` is false). */
  stopClaiming(): Promise<void>;
  /** Waits up to `deadlineMs` for running drives to hand their instances back, abandons the rest, stops renewing. */
  drain(deadlineMs: number): Promise<void>;
}

/** Resolves true once every drive is done, false after `ms` milliseconds. */
function drained(entries: readonly ActiveInstance[], ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void Promise.all(entries.map((e) => e.done)).then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Creates the drive pool of an engine: the claim loop, lease renewal and the running drives. */
export function createDrivePool(deps: DrivePoolDependencies): DrivePool {
  const { backend, registry, settings, logger, wake } = deps;
  const { workerId, leaseTtlMs } = settings;
  // Drives run outside whatever async context started them (a trigger's handler, a request), so their
  // commands do not inherit that context's causation or trace.
  const detached = AsyncLocalStorage.snapshot();
  const active = new Map<string, ActiveInstance>();
  let driver: DriverDependencies | undefined;
  let loop: Promise<void> | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  let lastRenewal = Date.now();

  const launch = (instanceId: string, lease: Lease, start: DriveStart) => {
    const previous = active.get(instanceId);
    // Claimed again while an old drive still runs (its lease ran out): the old one is fenced off anyway.
    previous?.stop.abort(
      new LeaseLostError(instanceId, previous.handle.lease.owner, previous.handle.lease.epoch),
    );
    const stop = new AbortController();
    const cancel = new AbortController();
    const handle: DriveHandle = { instanceId, lease, stop: stop.signal, cancel: cancel.signal };
    const entry: ActiveInstance = { handle, stop, cancel, done: Promise.resolve() };
    active.set(instanceId, entry);
    entry.done = detached(async () => {
      if (previous !== undefined) await previous.done;
      await driveInstance(driver!, handle, start);
    }).finally(() => {
      if (active.get(instanceId) === entry) active.delete(instanceId);
      deps.onDriveEnd(instanceId);
      wake.kick();
    });
  };

  /** Claims up to `limit` due instances and launches them; how many it claimed. */
  const claimDue = async (limit: number): Promise<number> => {
    try {
      const now = Date.now();
      const rows = await backend.claim(workerId, registry.keys(), now, now + leaseTtlMs, limit);
      // Launched even if closing began meanwhile: the drive hands each one straight back.
      for (const row of rows) {
        launch(row.instanceId, row.lease, {
          kind: 'claimed',
          streamId: row.streamId,
          tenantId: row.tenantId,
          inboxVersion: row.inboxVersion,
          inboxSeen: row.inboxSeen,
        });
      }
      return rows.length;
    } catch (error) {
      logger.warn({ err: error }, 'cannot claim due instances; trying again');
      return 0;
    }
  };

  const pollLoop = async () => {
    while (deps.running()) {
      const limit = Math.min(settings.concurrency - active.size, settings.claimBatch);
      const claimed = limit > 0 ? await claimDue(limit) : 0;
      // A full batch means more may be due: look again at once.
      if (claimed > 0 && claimed === limit) continue;
      await wake.sleep(settings.pollIntervalMs);
    }
  };

  const renewLeases = async () => {
    const entries = [...active.values()];
    if (entries.length === 0) {
      lastRenewal = Date.now();
      return;
    }
    try {
      const ids = entries.map((entry) => entry.handle.instanceId);
      const result = await backend.renew(workerId, ids, Date.now() + leaseTtlMs);
      lastRenewal = Date.now();
      for (const entry of entries) {
        const { instanceId, lease } = entry.handle;
        if (active.get(instanceId) !== entry) continue;
        if (result.held.get(instanceId) !== lease.epoch) {
          // Released by the drive meanwhile, or claimed by another process: either way this drive is done.
          entry.stop.abort(new LeaseLostError(instanceId, lease.owner, lease.epoch));
        } else if (result.cancelRequested.has(instanceId)) {
          entry.cancel.abort();
        }
      }
    } catch (error) {
      logger.warn({ err: error }, 'cannot renew leases');
      if (Date.now() - lastRenewal > leaseTtlMs) {
        // Leases may have run out and been claimed elsewhere: stop rather than run an instance twice.
        for (const entry of entries) {
          entry.stop.abort(new LeaseLostError(entry.handle.instanceId, workerId, entry.handle.lease.epoch));
        }
      }
    }
  };

  return {
    size: () => active.size,
    has: (instanceId) => active.has(instanceId),
    launch,
    cancel(instanceId) {
      active.get(instanceId)?.cancel.abort();
    },
    start(dependencies) {
      driver = dependencies;
      lastRenewal = Date.now();
      renewTimer = setInterval(() => void renewLeases(), Math.max(50, Math.floor(leaseTtlMs / 3)));
      loop = pollLoop();
    },
    async stopClaiming() {
      wake.kick();
      await loop;
    },
    async drain(deadlineMs) {
      if (!(await drained([...active.values()], deadlineMs))) {
        logger.warn(
          { running: active.size },
          'instances still running at the close deadline; abandoning them',
        );
        for (const entry of active.values()) entry.stop.abort(new WorkflowEngineClosedError('close'));
        await drained([...active.values()], 1_000);
      }
      clearInterval(renewTimer);
    },
  };
}
