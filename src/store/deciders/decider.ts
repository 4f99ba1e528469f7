import type { EventData, EventDefinition } from '../../events/define-event.ts';

/** A domain event as deciders see it: its CloudEvents type and its data (upcast to the current version). */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

/** The domain event of an event definition: `DomainEventOf<typeof PatientAdmitted>`. */
export type DomainEventOf<Definition extends EventDefinition> = DomainEvent<
  Definition['type'],
  EventData<Definition>
>;

/**
 * An aggregate's behaviour as plain data (Emmett style): decide a command against the current state into
 * events (none, one or several; throw to refuse it), evolve the state by one event, and the state of a
 * stream with no events. All three are pure: no I/O, no clock, no randomness.
 */
export interface Decider<Command, Event extends DomainEvent, State> {
  decide(command: Command, state: State): Event | readonly Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** The events a decision produced, as an array. */
export function decisionEvents<Event>(decided: Event | readonly Event[]): readonly Event[] {
  return Array.isArray(decided) ? (decided as readonly Event[]) : [decided as Event];
}

/** Folds events into a state, from `state` (default the decider's initial state). */
export function foldEvents<Event extends DomainEvent, State>(
  decider: Pick<Decider<unknown, Event, State>, 'evolve' | 'initialState'>,
  events: readonly Event[],
  state: State = decider.initialState(),
): State {
  let current = state;
  for (const event of events) current = decider.evolve(current, event);
  return current;
}
