import { WRITE_TRANSITION } from './write-transition.ts';

/** A transition without events (a park): the same fenced row write as inside an append. */
export const RELEASE = WRITE_TRANSITION;
