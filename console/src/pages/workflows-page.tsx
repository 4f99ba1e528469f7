import { useLocation } from 'preact-iso';
import { type Answer, answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { moveFocusInList } from '../components/key-list';
import { LoadMore } from '../components/load-more';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { formatTime } from '../lib/format';
import { usePagedLoad } from '../lib/use-paged-load';

type Instance = Answer<'listWorkflowInstances'>['items'][number];
type SlaState = Instance['slaState'];
type Status = Instance['status'];

/** Instances fetched per page. */
const PAGE = 200;

/** The SLA states an operator looks at, in the order of urgency. */
const SLA_STATES: SlaState[] = ['breached', 'at-risk', 'on-time', 'none'];
const SLA_LABELS: Record<SlaState, string> = {
  breached: 'Breached',
  'at-risk': 'At risk',
  'on-time': 'On time',
  none: 'No SLA',
};
const STATUSES: Status[] = [
  'running',
  'waiting',
  'compensating',
  'needs_operator',
  'completed',
  'compensated',
  'failed',
  'timed_out',
  'cancelled',
];

/** Workflow instances by SLA state (breached first) and status; both filters are in the URL. */
export function WorkflowsPage() {
  const location = useLocation();
  const status = location.query.status as Status | undefined;
  const instances = usePagedLoad(
    (cursor) =>
      answer(
        api.GET('/v1/workflows/instances', {
          params: { query: { limit: PAGE, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) } },
        }),
      ),
    [status],
  );
  const items = instances.items;
  return (
    <section aria-labelledby="workflows-title">
      <h1 id="workflows-title">Workflows</h1>
      <StatusFilter
        status={status}
        onChange={(next) => location.route(next ? `/workflows?status=${next}` : '/workflows')}
      />
      {instances.error && <ProblemNotice error={instances.error} />}
      {instances.loading && !items && <Loading what="workflow instances" />}
      {items && items.length === 0 && (
        <EmptyState title={status ? `No ${status} instances` : 'No workflow instances yet'}>
          An instance appears when a workflow starts (<code>workflows.start</code>) on a node that runs its
          definition{status ? '; choose another status to see the rest' : ''}.
        </EmptyState>
      )}
      {items && items.length > 0 && <SlaCounts instances={items} />}
      {items &&
        SLA_STATES.map((sla) => {
          const inState = items.filter((instance) => instance.slaState === sla);
          return inState.length === 0 ? null : (
            <InstanceTable key={sla} title={SLA_LABELS[sla]} sla={sla} instances={inState} />
          );
        })}
      <LoadMore list={instances} what="instances" />
    </section>
  );
}

/** How many of the instances shown are in each SLA state. */
function SlaCounts({ instances }: { instances: Instance[] }) {
  return (
    <p class="sla-counts">
      {SLA_STATES.map((sla) => (
        <span key={sla} class={`badge sla-${sla}`} data-sla-count={sla}>
          {SLA_LABELS[sla]}: {instances.filter((instance) => instance.slaState === sla).length}
        </span>
      ))}
    </p>
  );
}

/** Picks one status, or all. */
function StatusFilter({
  status,
  onChange,
}: {
  status: Status | undefined;
  onChange: (next: Status | undefined) => void;
}) {
  return (
    <form class="filters" aria-label="Instance filters" onSubmit={(event) => event.preventDefault()}>
      <label>
        <span>Status</span>
        <select
          name="status"
          value={status ?? ''}
          onChange={(event) => onChange((event.currentTarget.value || undefined) as Status | undefined)}
        >
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace('_', ' ')}
            </option>
          ))}
        </select>
      </label>
    </form>
  );
}

/** The instances of one SLA state, each a link to its timeline. */
function InstanceTable({ title, sla, instances }: { title: string; sla: SlaState; instances: Instance[] }) {
  const id = `sla-${sla}-title`;
  return (
    <>
      <h2 id={id}>
        {title} ({instances.length})
      </h2>
      <table class="table" aria-labelledby={id} data-sla={sla}>
        <thead>
          <tr>
            <th scope="col">Instance</th>
            <th scope="col">Workflow</th>
            <th scope="col">Status</th>
            <th scope="col">Step</th>
            <th scope="col">Started</th>
            <th scope="col">SLA deadline</th>
          </tr>
        </thead>
        <tbody onKeyDown={moveFocusInList}>
          {instances.map((instance) => (
            <tr key={instance.instanceId} data-instance={instance.instanceId}>
              <td>
                <a data-row-link href={`/workflows/${encodeURIComponent(instance.instanceId)}`}>
                  {instance.instanceId}
                </a>
              </td>
              <td>
                {instance.workflowId} v{instance.workflowVersion}
              </td>
              <td>
                <span class={`badge ${instance.status}`} data-instance-status>
                  {instance.status.replace('_', ' ')}
                </span>
              </td>
              <td>{instance.step ?? '—'}</td>
              <td>{formatTime(instance.startedAt)}</td>
              <td>{formatTime(instance.slaDeadline)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
