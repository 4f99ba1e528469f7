import { deepStrictEqual, fail } from 'node:assert/strict';
import { type Decider, type DomainEvent, decisionEvents, foldEvents } from './decider.ts';

/** What an error must be for `thenThrows`: its class, a predicate, or text (or a pattern) its message contains. */
export type ErrorCheck =
  | (abstract new (
      ...args: never[]
    ) => Error)
  | ((error: unknown) => boolean)
  | string
  | RegExp;

/** The command step of a decider specification. */
export interface WhenStep<Command, Event extends DomainEvent> {
  /** The command decided against the state the given events built. */
  when(command: Command): ThenStep<Event>;
}

/** The outcome step of a decider specification; each assertion throws an AssertionError when it fails. */
export interface ThenStep<Event extends DomainEvent> {
  /** The decision produced exactly these events, in this order (deep equality). Not a promise: do not await the step. */
  then(expected: Event | readonly Event[]): void;
  /** The decision produced no events. */
  thenNothing(): void;
  /** The decision threw; with a check, an error that passes it. */
  thenThrows(check?: ErrorCheck): void;
}

/** A decider specification: `deciderSpec(decider).given(events).when(command).then(events)`. */
export interface DeciderSpecification<Command, Event extends DomainEvent> {
  /** The events already in the stream (none for a new one). */
  given(events: readonly Event[]): WhenStep<Command, Event>;
}

function matches(error: unknown, check: ErrorCheck): boolean {
  if (typeof check === 'string') return error instanceof Error && error.message.includes(check);
  if (check instanceof RegExp) return error instanceof Error && check.test(error.message);
  // A class has a prototype that errors inherit from; a predicate is an arrow or plain function.
  if (typeof check === 'function' && check.prototype instanceof Error) {
    return error instanceof (check as abstract new (...args: never[]) => Error);
  }
  return (check as (error: unknown) => boolean)(error);
}

/**
 * Given/when/then for deciders, so a test reads like the domain: given these events happened, when this
 * command comes, then these events (or this refusal). Pure: no store involved. Failures are node:assert
 * AssertionErrors, which every test runner reports with a diff.
 */
export function deciderSpec<Command, Event extends DomainEvent, State>(
  decider: Decider<Command, Event, State>,
): DeciderSpecification<Command, Event> {
  return {
    given: (events) => ({
      when: (command) => {
        const decide = (): { events: readonly Event[] } | { error: unknown } => {
          try {
            return { events: decisionEvents(decider.decide(command, foldEvents(decider, events))) };
          } catch (error) {
            return { error };
          }
        };
        const decided = (): readonly Event[] => {
          const outcome = decide();
          if ('error' in outcome) {
            fail(`expected events, but the decision threw: ${String(outcome.error)}`);
          }
          return outcome.events;
        };
        return {
          // The given/when/then vocabulary of Emmett's DeciderSpecification; the step is never awaited.
          // biome-ignore lint/suspicious/noThenProperty: `then` is the assertion, by design
          then: (expected) => deepStrictEqual(decided(), decisionEvents(expected)),
          thenNothing: () => deepStrictEqual(decided(), []),
          thenThrows: (check) => {
            const outcome = decide();
            if (!('error' in outcome)) {
              fail(`expected the decision to throw, but it produced ${JSON.stringify(outcome.events)}`);
            }
            if (check !== undefined && !matches(outcome.error, check)) {
              fail(`the decision threw ${String(outcome.error)}, which does not match ${String(check)}`);
            }
          },
        };
      },
    }),
  };
}
