import { WrongExpectedVersionError } from '../store/errors.ts';
import type { InstanceWrite } from './backend.ts';
import { type Drive, rowStatus, settleStart, stepName, waitKeyOf } from './drive-session.ts';
import { LeaseLostError } from './errors.ts';
import { afterTransition } from './transition-observers.ts';

/** How a flush leaves the lease: kept (undefined), or given up with the row next due at `wakeAt`. */
export type Release = { wakeAt: number | null } | undefined;

/** The row write that goes with the drive's pending transition. */
function instanceWrite(drive: Drive, release: Release, waitKey: string | null): InstanceWrite {
  const { state } = drive;
  return {
    instanceId: drive.handle.instanceId,
    lease: drive.handle.lease,
    status: rowStatus(state, release !== undefined),
    step: stepName(drive.definition, state),
    streamVersion: state.streamVersion,
    slaBreached: state.slaBreached,
    endedAt: state.endedAt ?? null,
    now: Date.now(),
    inboxSeen: drive.inboxSeen,
    clearCancel: drive.clearCancel,
    release,
    consumed: drive.consumed,
    waitKey: waitKey === drive.committedWaitKey ? undefined : waitKey,
  };
}

/** A transition without events: parks the row (gives the lease up) if asked to. False: the lease was lost. */
async function releaseOnly(drive: Drive, write: InstanceWrite, release: Release): Promise<boolean> {
  if (release === undefined) return true;
  if (!(await drive.deps.backend.release(write))) {
    drive.log.warn('lease lost before the instance could park');
    return false;
  }
  // Not knowing the inbox version here, look again soon in case an item arrived meanwhile.
  if (release.wakeAt !== null) drive.deps.wakeAt(release.wakeAt);
  return true;
}

/**
 * Stores the drive's pending events with the row write, in one append fenced by the lease and the
 * expected version (a new instance's row is inserted in the same transaction); `release` gives the lease
 * up. False: stop driving (lease lost, store failure, or the start refused).
 */
export async function flushDrive(drive: Drive, release: Release): Promise<boolean> {
  const { deps, handle } = drive;
  if (handle.stop.aborted) return false;
  const current = drive.state;
  const waitKey = waitKeyOf(current);
  const write = instanceWrite(drive, release, waitKey);
  try {
    if (drive.pending.length === 0) return await releaseOnly(drive, write, release);
    const out = { inboxVersion: drive.inboxVersion };
    const writeRow = deps.backend.writeHook(write, out);
    const insertRow = drive.unstored === undefined ? undefined : deps.backend.insertHook(drive.unstored.row);
    const result = await deps.store.append(drive.streamId, drive.pending, {
      expectedVersion: insertRow === undefined ? drive.committedVersion : 'no_stream',
      tenantId: current.tenantId,
      withinTransaction:
        insertRow === undefined
          ? writeRow
          : async (context) => {
              await insertRow(context);
              await writeRow(context);
            },
    });
    settleStart(drive, true);
    drive.inboxVersion = out.inboxVersion;
    drive.committedVersion = current.streamVersion;
    drive.committedWaitKey = waitKey;
    drive.pending = [];
    drive.consumed = [];
    drive.clearCancel = false;
    if (drive.inboxVersion !== drive.inboxSeen) {
      drive.inboxKnown = false;
      if (release !== undefined) deps.kick();
    }
    if (release?.wakeAt !== undefined && release.wakeAt !== null) deps.wakeAt(release.wakeAt);
    await afterTransition(drive, result.events, write.status);
    return true;
  } catch (error) {
    if (drive.unstored !== undefined) {
      // The start itself was refused: an instance with this id exists (a dedupe), or the store failed.
      settleStart(drive, error instanceof WrongExpectedVersionError ? false : (error as Error));
      return false;
    }
    if (error instanceof LeaseLostError || error instanceof WrongExpectedVersionError) {
      drive.log.warn({ err: error }, 'another process took the instance over; this one stops');
    } else {
      drive.log.error(
        { err: error },
        'cannot store a transition; the instance is retried when its lease runs out',
      );
    }
    return false;
  }
}
