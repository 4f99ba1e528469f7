import { v7 } from 'uuid';

/** A new event id: a UUIDv7, so ids sort by creation time (monotonic within this process). */
export function newEventId(): string {
  return v7();
}
