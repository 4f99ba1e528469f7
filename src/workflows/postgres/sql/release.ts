import { writeTransitionStatement } from './write-transition.ts';

/** A transition without events (a park): the same fenced row write as inside an append. */
export const releaseStatement: (schema: string) => string = writeTransitionStatement;
