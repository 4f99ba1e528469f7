import { KeelError } from '../../errors/keel-error.ts';

/** A command line that cannot be run as given (a missing value, values that do not go together). */
export class CliUsageError extends KeelError {
  readonly code = 'KEEL_CLI_USAGE';
}
