import type { EventStore, StoredEvent } from '../store/event-store.ts';
import type { InstanceRow, WorkflowBackend } from './backend.ts';
import type { WorkflowInstanceView } from './engine-types.ts';
import { WorkflowInstanceNotFoundError } from './errors.ts';
import { foldHistory, type InstanceState, isTerminal } from './instance-state.ts';
import type { WorkflowRegistry } from './registry.ts';

/** Outputs of the completed (or compensated) steps, by name. */
function outputsByName(state: InstanceState): Record<string, unknown> {
  const outputs: Record<string, unknown> = {};
  for (const step of state.steps) {
    if (step !== undefined && (step.status === 'completed' || step.status === 'compensated')) {
      outputs[step.name] = step.output;
    }
  }
  return outputs;
}

/** An instance as `get` shows it: its row and folded history, step names from its definition when registered. */
export function instanceView(
  row: InstanceRow,
  state: InstanceState,
  events: readonly StoredEvent[],
  stepNames: readonly string[],
): WorkflowInstanceView {
  return {
    instanceId: row.instanceId,
    workflowId: state.workflowId,
    workflowVersion: state.workflowVersion,
    tenantId: row.tenantId,
    status: isTerminal(state.status) ? state.status : row.status,
    currentStep: row.step,
    input: state.input,
    outputs: outputsByName(state),
    output: state.status === 'completed' ? state.output : undefined,
    error: state.error,
    steps: stepNames.map((name, index) => {
      const step = state.steps[index];
      return {
        name,
        status: step?.status ?? 'pending',
        attempt: step?.attempt ?? 0,
        output: step?.output,
        error: step?.error,
      };
    }),
    compensation:
      state.compensation === undefined
        ? undefined
        : {
            reason: state.compensation.reason,
            steps: state.compensation.order.map((index) => stepNames[index] ?? String(index)),
          },
    startedAt: state.startedAt,
    endedAt: state.endedAt,
    slaDeadline: state.slaDeadline,
    slaBreached: state.slaBreached,
    deadline: state.deadline,
    leaseOwner: row.leaseOwner,
    history: events.map((e) => ({
      version: e.version,
      type: e.event.type,
      recordedAt: e.recordedAt.getTime(),
      data: e.event.data,
    })),
  };
}

/** Reads an instance's row and history; throws WorkflowInstanceNotFoundError. */
export async function readInstanceView(
  store: EventStore,
  backend: WorkflowBackend,
  registry: WorkflowRegistry,
  instanceId: string,
): Promise<WorkflowInstanceView> {
  const row = await backend.get(instanceId);
  if (row === undefined) throw new WorkflowInstanceNotFoundError(instanceId);
  const page = await store.readStream(row.streamId);
  const state = foldHistory(
    page.events.map((e) => ({ type: e.event.type, data: e.event.data, time: e.recordedAt.getTime() })),
    row.tenantId,
  );
  if (state === undefined) throw new WorkflowInstanceNotFoundError(instanceId);
  const definition = registry.find(state.workflowId, state.workflowVersion);
  const names = definition?.steps.map((s) => s.name) ?? state.steps.map((s) => s?.name ?? '');
  return instanceView(row, state, page.events, names);
}
