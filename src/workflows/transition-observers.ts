import type { CloudEvent } from '../events/cloud-event.ts';
import type { EventData } from '../events/define-event.ts';
import type { StoredEvent } from '../store/event-store.ts';
import type { Drive } from './drive-session.ts';
import type { WorkflowStatus } from './instance-state.ts';
import type { WorkflowMetrics } from './metrics.ts';
import {
  StepCompensated,
  StepCompleted,
  StepFailed,
  WorkflowCancelled,
  WorkflowCompensated,
  WorkflowCompleted,
  WorkflowFailed,
  WorkflowNeedsOperator,
  WorkflowSlaBreached,
  WorkflowTimedOut,
} from './workflow-events.ts';

/** Counts one stored history event of `workflow` in the engine's metrics. */
export function observeHistoryEvent(metrics: WorkflowMetrics, workflow: string, event: CloudEvent): void {
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case StepCompleted.type:
    case StepFailed.type:
    case StepCompensated.type:
      metrics.stepDuration.observe(
        {
          workflow,
          step: String(data.step),
          outcome:
            event.type === StepCompleted.type
              ? 'completed'
              : event.type === StepFailed.type
                ? 'failed'
                : 'compensated',
        },
        Number(data.durationMs) / 1000,
      );
      break;
    case WorkflowCompleted.type:
      metrics.completed.inc({ workflow });
      break;
    case WorkflowCompensated.type:
      metrics.compensated.inc({ workflow, outcome: 'compensated' });
      break;
    case WorkflowTimedOut.type:
      metrics.compensated.inc({ workflow, outcome: 'timed_out' });
      break;
    case WorkflowCancelled.type:
      metrics.compensated.inc({ workflow, outcome: 'cancelled' });
      break;
    case WorkflowFailed.type:
      metrics.failed.inc({ workflow });
      break;
    case WorkflowNeedsOperator.type:
      metrics.needsOperator.inc({ workflow });
      break;
    case WorkflowSlaBreached.type:
      metrics.slaBreaches.inc({ workflow, scope: String(data.scope) });
      break;
  }
}

/**
 * What follows a stored transition: metrics, the bus copy of SLA breaches, and the engine's
 * `onTransition` observer (awaited: it holds the instance back).
 */
export async function afterTransition(
  drive: Drive,
  stored: readonly StoredEvent[],
  status: WorkflowStatus,
): Promise<void> {
  const { deps, definition, state } = drive;
  const { metrics, publisher } = deps;
  for (const { event } of stored) {
    if (metrics !== undefined) observeHistoryEvent(metrics, definition.id, event);
    if (event.type === WorkflowSlaBreached.type && publisher !== undefined && deps.publishesBreaches) {
      // The breach is in the history already; the bus copy is for alerting, so a failure is only logged.
      publisher
        .publish(WorkflowSlaBreached, event.data as EventData<typeof WorkflowSlaBreached>, {
          tenantId: state.tenantId,
          correlationId: state.correlationId,
        })
        .catch((error: unknown) => drive.log.warn({ err: error }, 'cannot publish an SLA breach'));
    }
  }
  if (deps.onTransition !== undefined) {
    await deps.onTransition({
      instanceId: drive.handle.instanceId,
      workflowId: definition.id,
      workflowVersion: definition.version,
      status,
      events: stored,
    });
  }
}
