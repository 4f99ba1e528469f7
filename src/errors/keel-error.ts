/**
 * Base of every error Keel throws: a stable `code` callers branch on (`KEEL_<PART>_<WHAT>`), a message
 * that says what was wrong and where, and, on each subclass, the fields needed to act on it.
 */
export abstract class KeelError extends Error {
  /** Stable machine-readable code, e.g. `KEEL_VALIDATION`; never reworded once shipped. */
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // The subclass's own name, so logs and `String(error)` say which error it is.
    this.name = new.target.name;
  }
}
