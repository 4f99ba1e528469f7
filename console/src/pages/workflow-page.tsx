import { useState } from 'preact/hooks';
import { type ApiProblem, answer, api } from '../api/client';
import { JsonView } from '../components/json-view';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { WorkflowTimeline } from '../components/workflow-timeline';
import { formatTime } from '../lib/format';
import { asProblem, useLoad } from '../lib/use-load';
import { announce } from '../state/store';

/** Statuses after which an instance takes no more signals or cancels. */
const ENDED = new Set(['completed', 'compensated', 'failed', 'timed_out', 'cancelled']);

/** One workflow instance: its state, its step timeline, and the cancel and signal actions. */
export function WorkflowPage({ instanceId }: { instanceId: string }) {
  const instance = useLoad(
    () => answer(api.GET('/v1/workflows/instances/{instanceId}', { params: { path: { instanceId } } })),
    [instanceId],
  );
  const data = instance.data;
  return (
    <section aria-labelledby="workflow-title">
      <p class="crumbs">
        <a href="/workflows">Workflows</a> /
      </p>
      <h1 id="workflow-title">Instance {instanceId}</h1>
      {instance.error && <ProblemNotice error={instance.error} />}
      {instance.loading && !data && <Loading what="the instance" />}
      {data && (
        <>
          <dl class="facts">
            <dt>Workflow</dt>
            <dd>
              {data.workflowId} v{data.workflowVersion}
            </dd>
            <dt>Status</dt>
            <dd>
              <span class={`badge ${data.status}`} data-workflow-status>
                {data.status.replace('_', ' ')}
              </span>
            </dd>
            <dt>Current step</dt>
            <dd>{data.currentStep ?? '—'}</dd>
            <dt>Started</dt>
            <dd>{formatTime(data.startedAt)}</dd>
            <dt>SLA deadline</dt>
            <dd>
              {formatTime(data.slaDeadline)}
              {data.slaBreached ? ' (breached)' : ''}
            </dd>
            {data.error && (
              <>
                <dt>Error</dt>
                <dd>
                  {data.error.name}: {data.error.message}
                </dd>
              </>
            )}
          </dl>
          {data.status === 'needs_operator' && (
            <RetryCompensation instanceId={instanceId} onDone={instance.reload} />
          )}
          {!ENDED.has(data.status) && <InstanceActions instanceId={instanceId} onDone={instance.reload} />}
          <h2>Timeline</h2>
          <WorkflowTimeline timeline={data.timeline} startedAt={data.startedAt} endedAt={data.endedAt} />
          <h2>Input</h2>
          <JsonView value={data.input} />
        </>
      )}
    </section>
  );
}

/** Tries an operator-held instance's failing compensation again (after its cause was fixed). */
function RetryCompensation({ instanceId, onDone }: { instanceId: string; onDone: () => void }) {
  const [error, setError] = useState<ApiProblem | undefined>();
  const [busy, setBusy] = useState(false);
  const retry = async () => {
    setError(undefined);
    setBusy(true);
    try {
      await answer(
        api.POST('/v1/workflows/instances/{instanceId}/retry', {
          params: { path: { instanceId } },
          body: {},
        }),
      );
      announce('success', 'Compensation retried.');
      onDone();
    } catch (failure) {
      setError(asProblem(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="actions-panel" aria-label="Needs an operator">
      {error && <ProblemNotice error={error} />}
      <p>
        A compensation failed after its retries: fix its cause, then try it again. The instance goes on
        compensating from the step that failed.
      </p>
      <button type="button" onClick={retry} disabled={busy}>
        Retry compensation
      </button>
    </section>
  );
}

/** Cancel with a reason, or send a named signal with a JSON payload. */
function InstanceActions({ instanceId, onDone }: { instanceId: string; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const [signal, setSignal] = useState({ name: '', payload: '' });
  const [error, setError] = useState<ApiProblem | undefined>();
  const act = async (what: string, call: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await call();
      announce('success', what);
      onDone();
    } catch (failure) {
      setError(asProblem(failure));
    }
  };
  const path = { instanceId };
  return (
    <div class="actions-panel">
      {error && <ProblemNotice error={error} />}
      <form
        class="actions"
        aria-label="Cancel the instance"
        onSubmit={(event) => {
          event.preventDefault();
          act('Cancel requested.', () =>
            answer(
              api.POST('/v1/workflows/instances/{instanceId}/cancel', { params: { path }, body: { reason } }),
            ),
          );
        }}
      >
        <label>
          <span>Reason</span>
          <input name="reason" required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <button type="submit" class="danger">
          Cancel instance
        </button>
      </form>
      <form
        class="actions"
        aria-label="Send a signal"
        onSubmit={(event) => {
          event.preventDefault();
          let payload: unknown;
          try {
            payload = signal.payload.trim() ? JSON.parse(signal.payload) : undefined;
          } catch (failure) {
            setError(asProblem(new Error(`The payload is not JSON: ${(failure as Error).message}`)));
            return;
          }
          act(`Signal ${signal.name} sent.`, () =>
            answer(
              api.POST('/v1/workflows/instances/{instanceId}/signal', {
                params: { path },
                body: { name: signal.name, ...(payload === undefined ? {} : { payload }) },
              }),
            ),
          );
        }}
      >
        <label>
          <span>Signal name</span>
          <input
            name="signal"
            required
            value={signal.name}
            onInput={(e) => setSignal({ ...signal, name: e.currentTarget.value })}
          />
        </label>
        <label>
          <span>Payload (JSON)</span>
          <input
            name="payload"
            value={signal.payload}
            onInput={(e) => setSignal({ ...signal, payload: e.currentTarget.value })}
          />
        </label>
        <button type="submit">Send signal</button>
      </form>
    </div>
  );
}
