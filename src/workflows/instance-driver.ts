import { flushDrive } from './drive-persist.ts';
import { applyEvents, type Drive, isLive, loadDrive, settleStart } from './drive-session.ts';
import type { DriveHandle, DriverDependencies, DriveStart } from './drive-types.ts';
import { type Plan, plan } from './planner.ts';
import { compensateStep, publishCommand, runAction } from './step-effects.ts';
import {
  WorkflowCancelled,
  WorkflowCompensated,
  WorkflowCompleted,
  WorkflowFailed,
  WorkflowTimedOut,
} from './workflow-events.ts';

export type {
  ClaimedInstanceStart,
  DriveHandle,
  DriverDependencies,
  DriveStart,
  NewInstanceStart,
  WorkflowTransition,
} from './drive-types.ts';

const TERMINAL_TYPES = new Set([
  WorkflowCompleted.type,
  WorkflowCompensated.type,
  WorkflowFailed.type,
  WorkflowTimedOut.type,
  WorkflowCancelled.type,
]);

/** Reads the inbox items that arrived since the drive last looked, unless it knows there are none. */
async function refreshInbox(drive: Drive): Promise<void> {
  if (drive.inboxKnown) return;
  const read = await drive.deps.backend.readInbox(drive.handle.instanceId);
  const known = new Set(drive.inbox.map((item) => item.id));
  const fresh = read.items.filter((item) => !known.has(item.id) && !drive.consumed.includes(item.id));
  drive.inbox = [...drive.inbox, ...fresh];
  drive.inboxVersion = read.version;
  drive.inboxSeen = read.version;
  drive.inboxKnown = true;
}

/** Applies a planned append and takes the inbox items it consumed; true when the instance has ended. */
function takeAppend(drive: Drive, next: Extract<Plan, { kind: 'append' }>, now: number): boolean {
  applyEvents(drive, next.events, now);
  for (const item of next.consumed) {
    drive.consumed.push(item.id);
    if (item.kind === 'cancel') drive.clearCancel = true;
  }
  const taken = new Set(next.consumed.map((item) => item.id));
  drive.inbox = drive.inbox.filter((item) => !taken.has(item.id));
  return TERMINAL_TYPES.has(drive.pending.at(-1)?.type ?? '');
}

/** Runs the effect a plan asks for (an action, a command, a compensation); false: stop driving. */
function runEffect(
  drive: Drive,
  next: Extract<Plan, { kind: 'run' | 'publish' | 'compensate' }>,
): Promise<boolean> {
  if (next.kind === 'run') return runAction(drive, next.index);
  if (next.kind === 'publish') return publishCommand(drive, next.index);
  return compensateStep(drive, next.index);
}

/** Plans and carries out transitions until the instance parks, ends, or the drive must stop. */
async function driveLoop(drive: Drive): Promise<void> {
  const { deps, handle, definition } = drive;
  const live = (index: number) => isLive(drive, index);
  for (;;) {
    if (handle.stop.aborted) return;
    await refreshInbox(drive);
    const now = Date.now();
    const next = plan(definition, drive.state, now, drive.inbox, live);
    switch (next.kind) {
      case 'append':
        if (takeAppend(drive, next, now)) {
          // The end is stored with the lease given up, in one transaction.
          await flushDrive(drive, { wakeAt: null });
          return;
        }
        continue;
      case 'discard': {
        const ids = next.items.map((item) => item.id);
        await deps.backend.discardInbox(ids);
        const dropped = new Set(ids);
        drive.inbox = drive.inbox.filter((item) => !dropped.has(item.id));
        continue;
      }
      case 'run':
      case 'publish':
      case 'compensate':
        if (deps.closing()) {
          // Shutting down: hand the instance back at once so another process carries on.
          await flushDrive(drive, { wakeAt: Date.now() });
          return;
        }
        if (!(await flushDrive(drive, undefined))) return;
        if (!(await runEffect(drive, next))) return;
        continue;
      case 'park':
        await flushDrive(drive, { wakeAt: next.wakeAt });
        return;
      case 'end':
        await flushDrive(drive, { wakeAt: null });
        return;
    }
  }
}

/**
 * Runs one instance while its lease is held: folds its history (or starts from a fresh WorkflowStarted),
 * then plans, appends, and runs actions, commands and compensations until the instance parks (a timer,
 * a reply, a signal) or ends. Every append is fenced by the lease and the stream's expected version, and
 * carries the row write (status, timers, inbox, waits) in its transaction. Resolves when done; never throws.
 */
export async function driveInstance(
  deps: DriverDependencies,
  handle: DriveHandle,
  start: DriveStart,
): Promise<void> {
  const { instanceId } = handle;
  const log = deps.logger.child({ instanceId });
  const drive = await loadDrive(deps, handle, start, log);
  if (drive === undefined) return;
  try {
    await driveLoop(drive);
  } catch (error) {
    log.error({ err: error }, 'instance driver failed; the instance is retried when its lease runs out');
    settleStart(drive, error as Error);
  } finally {
    settleStart(drive, new Error(`instance "${instanceId}" was not started: its drive stopped first`));
  }
}
