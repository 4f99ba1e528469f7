import type { CloudEvent } from '../../events/cloud-event.ts';
import type { EventDefinition } from '../../events/define-event.ts';
import { ValidationError } from '../../events/errors.ts';
import { issuesFromZod } from '../../events/issues.ts';
import { cachedPointerSegments, isProtectedValue, valueAt } from '../../events/sensitive-fields.ts';
import type { Middleware } from './middleware.ts';

/**
 * The event with its data parsed by the definition's schema; throws a ValidationError naming each bad field.
 * A sensitive field holding a sealed, masked or redacted value is not a mismatch (the reader may not see
 * it, or its key was erased): such an event passes as it came when that is all that is wrong with it.
 */
export function checkEventData(definition: EventDefinition, event: CloudEvent): CloudEvent {
  const checked = definition.schema.safeParse(event.data);
  if (checked.success) return { ...event, data: checked.data };
  const issues = checked.error.issues.filter(
    (issue) => !isProtectedIssue(definition, event.data, issue.path),
  );
  if (issues.length === 0) return event;
  throw new ValidationError(
    `event ${event.id} does not match ${definition.type} v${definition.version}`,
    issuesFromZod(issues, 'data'),
    definition.type,
  );
}

/** Whether a schema issue is at a sensitive field whose value is protected (sealed, masked or redacted). */
function isProtectedIssue(definition: EventDefinition, data: unknown, path: readonly PropertyKey[]): boolean {
  if (definition.sensitive.length === 0) return false;
  const at = path.map(String).join('/');
  return definition.sensitive.some((pointer) => {
    const segments = cachedPointerSegments(pointer);
    return segments.join('/') === at && isProtectedValue(valueAt(data, segments));
  });
}

/**
 * Checks the event's data against its definition's schema before the handler sees it; a mismatch is a
 * ValidationError, which is not retried (it goes straight to the dead-letter queue). A batch route checks
 * each event with `checkEventData` before it joins a batch instead, so one bad event never fails a batch.
 */
export function validation(definition: EventDefinition): Middleware {
  return (next) => (event, context) => next(checkEventData(definition, event), context);
}
