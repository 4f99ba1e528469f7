import { InvalidCheckpointError } from '../errors.ts';
import type { CommitCursor } from './sql/read-all.ts';

const CHECKPOINT = /^(0|[1-9][0-9]{0,19}):(0|[1-9][0-9]{0,18})$/;

/** The cursor before the first event. */
export const START: CommitCursor = { transactionId: '0', position: '0' };

/** The commit cursor in a PostgreSQL checkpoint: `<transaction id>:<position>`. */
export function decodeCheckpoint(checkpoint: string | undefined): CommitCursor {
  if (checkpoint === undefined) return START;
  const match = typeof checkpoint === 'string' ? CHECKPOINT.exec(checkpoint) : null;
  if (match === null) throw new InvalidCheckpointError(String(checkpoint), 'postgres');
  return { transactionId: match[1]!, position: match[2]! };
}

/** Orders commit cursors as readers do: by transaction id, then position. */
export function compareCursors(a: CommitCursor, b: CommitCursor): number {
  const t = BigInt(a.transactionId) - BigInt(b.transactionId);
  if (t !== 0n) return t < 0n ? -1 : 1;
  const p = BigInt(a.position) - BigInt(b.position);
  return p === 0n ? 0 : p < 0n ? -1 : 1;
}

/** The checkpoint of a commit cursor. */
export const encodeCursor = (cursor: CommitCursor): string => `${cursor.transactionId}:${cursor.position}`;
