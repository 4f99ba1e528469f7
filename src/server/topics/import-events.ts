import type { DecodedCloudEvent } from '../../bus/publisher-port.ts';
import type { Catalog } from '../../events/catalog.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { validateDecodedEventData } from '../../events/create-event.ts';
import { safeParseCloudEvent } from '../../events/envelope.ts';
import type { ValidationIssue } from '../../events/errors.ts';
import { RequestInvalidError } from '../api/errors.ts';

/** Issues listed in one answer at most: a broken file of a million lines gets a readable answer. */
export const MAX_IMPORT_ISSUES = 100;

/** The events of an NDJSON import, each with the line it came from (1-based). */
export interface ImportedLines {
  events: DecodedCloudEvent[];
  lines: number[];
}

/**
 * Reads an NDJSON body (one CloudEvent in the JSON format per line; blank lines skipped) and checks every
 * event against the catalog: a valid envelope, a type the catalog routes to `topic`, data valid for its
 * schema. Throws RequestInvalidError listing the issues (first 100) as `line[<n>].<field>`; nothing is kept.
 */
export function readImport(body: Buffer, catalog: Catalog, topic: string): ImportedLines {
  const text = body.toString('utf8');
  const events: DecodedCloudEvent[] = [];
  const lines: number[] = [];
  const issues: ValidationIssue[] = [];
  let start = 0;
  for (let line = 1; start <= text.length && issues.length < MAX_IMPORT_ISSUES; line++) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    const content = text.slice(start, end).trim();
    start = end + 1;
    if (content !== '') {
      const found = checkLine(content, catalog, topic, `line[${line}]`);
      if (found.issues) issues.push(...found.issues);
      else {
        events.push(found.event as DecodedCloudEvent);
        lines.push(line);
      }
    }
    if (newline === -1) break;
  }
  if (issues.length > 0) throw new RequestInvalidError(issues.slice(0, MAX_IMPORT_ISSUES));
  if (events.length === 0) {
    throw new RequestInvalidError([
      { path: 'body', rule: 'required', message: 'no events: send one CloudEvent (JSON) per line' },
    ]);
  }
  return { events, lines };
}

/** One line checked: its event, or the issues found, each path starting with `at`. */
function checkLine(
  content: string,
  catalog: Catalog,
  topic: string,
  at: string,
): { event: CloudEvent; issues?: undefined } | { issues: ValidationIssue[] } {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    return { issues: [{ path: at, rule: 'malformed_json', message: (error as Error).message }] };
  }
  const parsed = safeParseCloudEvent(value, at);
  if (!parsed.success) return { issues: parsed.issues };
  const event = parsed.event;
  const definition = catalog.event(event.type);
  const destination = definition === undefined ? undefined : catalog.route(event.type).topic.name;
  if (definition === undefined || destination !== topic) {
    const message =
      definition === undefined
        ? `"${event.type}" is not in the catalog`
        : `${event.type} events belong to topic ${destination}, not ${topic}`;
    return { issues: [{ path: `${at}.type`, rule: 'unknown_type', message }] };
  }
  try {
    validateDecodedEventData(definition, event);
  } catch (error) {
    const found = (error as { issues?: ValidationIssue[] }).issues;
    if (found === undefined) throw error;
    return {
      issues: found.map((issue) => ({ ...issue, path: `${at}${issue.path ? `.${issue.path}` : ''}` })),
    };
  }
  return { event };
}
