import { KeelError } from '../../errors/keel-error.ts';

/** Why a master key cannot be used. */
export type MasterKeyProblem = 'missing' | 'malformed' | 'mismatch';

/**
 * The master key is missing, malformed, or not the one the key store was written with. Raised at start,
 * before anything is published or stored, so no event is ever written with its sensitive fields in plain.
 */
export class MasterKeyError extends KeelError {
  readonly code = 'KEEL_PHI_MASTER_KEY';
  readonly problem: MasterKeyProblem;

  constructor(problem: MasterKeyProblem, message: string) {
    super(message);
    this.problem = problem;
  }
}

/** An event with sensitive fields whose subject (whose data key encrypts them) cannot be found; nothing was sent. */
export class PhiSubjectMissingError extends KeelError {
  readonly code = 'KEEL_PHI_SUBJECT_MISSING';
  readonly eventId: string;
  readonly eventType: string;

  constructor(eventId: string, eventType: string, where: string) {
    super(
      `event ${eventId} (${eventType}) has sensitive fields but no subject to pick their data key (${where}); ` +
        'give the event a subject or configure subjectField',
    );
    this.eventId = eventId;
    this.eventType = eventType;
  }
}

/** A subject name that cannot name a data key (empty or too long); nothing was changed. */
export class InvalidSubjectError extends KeelError {
  readonly code = 'KEEL_PHI_INVALID_SUBJECT';

  constructor(subject: unknown) {
    super(`subject ${JSON.stringify(subject)} must be a non-empty string of at most 1000 characters`);
  }
}

/** Field encryption used before `start()` or after `close()`. */
export class FieldEncryptionNotStartedError extends KeelError {
  readonly code = 'KEEL_PHI_NOT_STARTED';

  constructor() {
    super('field encryption is not started: call start() first (it checks the master key)');
  }
}

/** A sealed field that does not open: its event's sealed bytes are missing, altered, or moved to another field. */
export class SealedValueError extends KeelError {
  readonly code = 'KEEL_PHI_SEALED_VALUE';
  readonly eventId: string;
  readonly pointer: string;

  constructor(eventId: string, eventType: string, pointer: string) {
    super(
      `event ${eventId} (${eventType}): the sealed value at ${pointer} does not open: its sealed bytes are missing, altered or were moved from another field`,
    );
    this.eventId = eventId;
    this.pointer = pointer;
  }
}
