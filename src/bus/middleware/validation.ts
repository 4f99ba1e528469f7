import type { CloudEvent } from '../../events/cloud-event.ts';
import type { EventDefinition } from '../../events/define-event.ts';
import { ValidationError } from '../../events/errors.ts';
import { issuesFromZod } from '../../events/issues.ts';
import type { Middleware } from './middleware.ts';

/** The event with its data parsed by the definition's schema; throws a ValidationError naming each bad field. */
export function checkEventData(definition: EventDefinition, event: CloudEvent): CloudEvent {
  const checked = definition.schema.safeParse(event.data);
  if (checked.success) return { ...event, data: checked.data };
  throw new ValidationError(
    `event ${event.id} does not match ${definition.type} v${definition.version}`,
    issuesFromZod(checked.error.issues, 'data'),
    definition.type,
  );
}

/**
 * Checks the event's data against its definition's schema before the handler sees it; a mismatch is a
 * ValidationError, which is not retried (it goes straight to the dead-letter queue). A batch route checks
 * each event with `checkEventData` before it joins a batch instead, so one bad event never fails a batch.
 */
export function validation(definition: EventDefinition): Middleware {
  return (next) => (event, context) => next(checkEventData(definition, event), context);
}
