import type { TextSink } from './gated-stream.ts';

/** Exit code of a configuration error (and of command-line usage errors). */
export const EXIT_CONFIG = 2;
/** Exit code of any other failure. */
export const EXIT_FAILURE = 1;

/**
 * Reports an error as one line on stderr (no stack: operators need the cause, not our call chain)
 * and returns the exit code: 2 for a configuration error, 1 otherwise.
 */
export function reportFailure(error: unknown, stderr: TextSink, doing?: string): number {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split('\n')[0];
  if (code === 'KEEL_CONFIG') {
    stderr.write(`keel: ${firstLine}\n`);
    return EXIT_CONFIG;
  }
  stderr.write(`keel: ${doing ? `${doing}: ` : ''}${firstLine}\n`);
  return EXIT_FAILURE;
}
