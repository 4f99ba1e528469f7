import { EXIT_CONFIG, EXIT_FAILURE } from '../fail.ts';

/** Exit code when the thing asked for does not exist (404). */
export const EXIT_NOT_FOUND = 3;
/** Exit code when the node refused the request as it stands: bad input, a conflict, too large (400, 409, 413, 422). */
export const EXIT_REFUSED = 4;
/** Exit code when a job ended without doing all its work (failed or cancelled). */
export const EXIT_INCOMPLETE = 5;
/** Exit code when the node wants credentials, or refused the ones sent (401). */
export const EXIT_UNAUTHENTICATED = 6;

/** What each exit code means, for `--help`. */
export const EXIT_CODES_HELP = `Exit codes: 0 done; ${EXIT_FAILURE} the node failed or cannot be reached; ${EXIT_CONFIG} wrong usage;
${EXIT_NOT_FOUND} not found; ${EXIT_REFUSED} refused (bad input, not allowed, a conflict such as a live group);
${EXIT_INCOMPLETE} a job ended failed or cancelled; ${EXIT_UNAUTHENTICATED} not authenticated (set KEEL_API_KEY).`;

/** The exit code for an error of a remote command. */
export function exitCodeFor(error: unknown): number {
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status !== 'number') return EXIT_FAILURE;
  if (status === 404) return EXIT_NOT_FOUND;
  if (status === 401) return EXIT_UNAUTHENTICATED;
  if ([400, 403, 409, 413, 415, 422].includes(status)) return EXIT_REFUSED;
  return EXIT_FAILURE;
}
