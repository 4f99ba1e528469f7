import { KeelError } from '../../errors/keel-error.ts';
import { type Problem, problem } from '../problem.ts';

/** One event of a request whose (source, id) was already published with other content. */
export interface ConflictingEvent {
  /** Position of the event in the request (0 for a single event). */
  index: number;
  source: string;
  id: string;
}

/**
 * Events whose `source` + `id` were published within the retention window with different content;
 * nothing of the request was written.
 */
export class IdempotencyConflictError extends KeelError {
  readonly code = 'KEEL_API_IDEMPOTENCY_CONFLICT';
  readonly conflicts: readonly ConflictingEvent[];

  constructor(conflicts: readonly ConflictingEvent[]) {
    const named = conflicts.map((event) => `"${event.id}" from "${event.source}"`).join(', ');
    super(
      `event ${named} was already published with different content; nothing was written ` +
        '(a new event needs a new id)',
    );
    this.conflicts = conflicts;
  }
}

/** The 409 problem for a conflict: each event named by its id (`[i].id` in a batch). */
export function idempotencyConflictProblem(error: IdempotencyConflictError, batch: boolean): Problem {
  const first = error.conflicts[0];
  return problem('idempotency-conflict', 409, 'Event id already used', error.message, {
    errors: error.conflicts.map((event) => ({
      path: batch ? `[${event.index}].id` : 'id',
      rule: 'same_content',
      message: `"${event.id}" from "${event.source}" was published with different content`,
    })),
    id: first?.id,
    source: first?.source,
    ...(batch && first !== undefined ? { index: first.index } : {}),
  });
}
