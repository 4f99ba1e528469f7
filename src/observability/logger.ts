import { type Logger, pino } from 'pino';

/** The logger library parts use when none is passed in: JSON lines on stderr, level from `KEEL_LOG_LEVEL` (default `info`). */
export function defaultLogger(): Logger {
  return pino({ name: 'keel', level: process.env.KEEL_LOG_LEVEL ?? 'info' }, pino.destination(2));
}
