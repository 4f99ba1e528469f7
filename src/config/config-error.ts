import { KeelError } from '../errors/keel-error.ts';
/** One wrong setting: which key (named as the operator wrote it) and why. */
export interface ConfigIssue {
  /** The setting as its source names it: `KEEL_PORT`, `--port`, or `port (keel.config.json)`. */
  key: string;
  /** What was expected and what was found. */
  message: string;
}

/** A configuration that cannot be used; the message is one line naming every wrong key. */
export class ConfigError extends KeelError {
  readonly code = 'KEEL_CONFIG';
  /** Every wrong setting found, not just the first. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map((issue) => `${issue.key}: ${issue.message}`).join('; '));
    this.issues = issues;
  }
}
