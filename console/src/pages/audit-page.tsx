import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { type Answer, answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { LoadMore } from '../components/load-more';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { formatTime } from '../lib/format';
import { asProblem } from '../lib/use-load';
import { usePagedLoad } from '../lib/use-paged-load';

type AuditItem = Answer<'listAudit'>['items'][number];
type Verification = Answer<'verifyAudit'>;

/** Records fetched per page. */
const PAGE = 100;

/** The filters of the page, all in its URL. */
const FILTERS = ['kind', 'outcome', 'subject', 'operation', 'from', 'to'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/**
 * The audit trail, newest first: who read which events or changed what, when, why and whether it was
 * allowed; filtered by kind, outcome, identity, operation and time (all in the URL). The chain is verified on
 * demand: every hash and link in the node's table and on the audit topic.
 */
export function AuditPage() {
  const location = useLocation();
  const filters: Filters = Object.fromEntries(
    FILTERS.filter((name) => location.query[name]).map((name) => [name, location.query[name]]),
  );
  const key = JSON.stringify(filters);
  const records = usePagedLoad(
    async (cursor) => {
      const page = await answer(
        api.GET('/v1/audit', {
          params: {
            query: {
              order: 'desc',
              limit: PAGE,
              ...(cursor ? { before: Number(cursor) } : {}),
              ...(filters.kind ? { kind: filters.kind as 'read' | 'action' } : {}),
              ...(filters.outcome ? { outcome: filters.outcome as 'allowed' | 'refused' } : {}),
              ...(filters.subject ? { subject: filters.subject } : {}),
              ...(filters.operation ? { operation: filters.operation } : {}),
              ...(filters.from ? { from: isoOf(filters.from) } : {}),
              ...(filters.to ? { to: isoOf(filters.to) } : {}),
            },
          },
        }),
      );
      return { items: page.items, next: page.next === null ? null : String(page.next) };
    },
    [key],
  );
  const apply = (next: Filters) => {
    const search = new URLSearchParams(
      Object.entries(next).filter(([, value]) => value) as [string, string][],
    );
    location.route(search.size > 0 ? `/audit?${search}` : '/audit');
  };
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit trail</h1>
      <p class="muted note">
        Every read of event data and every administrative action, recorded before it ran, each record chained
        to the one before by its hash.
      </p>
      <ChainState />
      <AuditFilters filters={filters} onApply={apply} />
      {records.error && <ProblemNotice error={records.error} />}
      {records.loading && !records.items && <Loading what="audit records" />}
      {records.items && records.items.length === 0 && (
        <EmptyState title="No audit records match">Reads and actions appear here as they happen.</EmptyState>
      )}
      {records.items && records.items.length > 0 && <AuditTable items={records.items} />}
      <LoadMore list={records} what="records" />
    </section>
  );
}

/** The chain's state: unchecked until asked, then verified (with the topic copy) or broken at a record. */
function ChainState() {
  const [state, setState] = useState<{ result?: Verification; error?: string; busy: boolean }>({
    busy: false,
  });
  const verify = async () => {
    setState({ busy: true });
    try {
      setState({ result: await answer(api.POST('/v1/audit/verify')), busy: false });
    } catch (error) {
      setState({ error: asProblem(error).message, busy: false });
    }
  };
  const { result } = state;
  return (
    <div
      class="actions chain"
      data-chain={result ? (result.ok && result.topic?.ok !== false ? 'verified' : 'broken') : 'unchecked'}
    >
      <button type="button" onClick={verify} disabled={state.busy}>
        {state.busy ? 'Verifying…' : 'Verify the chain'}
      </button>
      <p role="status" class={result && !result.ok ? 'warn-text' : undefined}>
        {state.error ??
          (result === undefined
            ? 'Not verified yet.'
            : result.ok
              ? `Verified: ${result.records.toLocaleString('en-US')} records, every hash and link holds.`
              : `Broken at record ${result.seq}: ${result.problem}`)}
        {result?.topic &&
          (result.topic.ok
            ? ` Audit topic: ${result.topic.records.toLocaleString('en-US')} records hold${result.topic.behind > 0 ? `, ${result.topic.behind} not forwarded yet` : ''}.`
            : ` Audit topic broken at record ${result.topic.seq}: ${result.topic.problem}`)}
      </p>
    </div>
  );
}

function AuditFilters({ filters, onApply }: { filters: Filters; onApply: (next: Filters) => void }) {
  const submit = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    onApply(Object.fromEntries(FILTERS.map((name) => [name, String(data.get(name) ?? '').trim()])));
  };
  return (
    <form class="filters" aria-label="Audit filters" onSubmit={submit} key={JSON.stringify(filters)}>
      <label>
        <span>Kind</span>
        <select name="kind" value={filters.kind ?? ''}>
          <option value="">any</option>
          <option value="read">reads of event data</option>
          <option value="action">administrative actions</option>
        </select>
      </label>
      <label>
        <span>Outcome</span>
        <select name="outcome" value={filters.outcome ?? ''}>
          <option value="">any</option>
          <option value="allowed">allowed</option>
          <option value="refused">refused</option>
        </select>
      </label>
      <label>
        <span>Identity</span>
        <input name="subject" placeholder="key:3f9a0c1b" value={filters.subject ?? ''} />
      </label>
      <label>
        <span>Operation contains</span>
        <input name="operation" placeholder="/messages" value={filters.operation ?? ''} />
      </label>
      <label>
        <span>From (UTC)</span>
        <input name="from" type="datetime-local" step="1" value={filters.from ?? ''} />
      </label>
      <label>
        <span>To (UTC)</span>
        <input name="to" type="datetime-local" step="1" value={filters.to ?? ''} />
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}

function AuditTable({ items }: { items: AuditItem[] }) {
  return (
    <table class="table" data-audit-records>
      <caption class="sr-only">Audit records, newest first</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Time</th>
          <th scope="col">Kind</th>
          <th scope="col">Who</th>
          <th scope="col">Operation</th>
          <th scope="col">Target</th>
          <th scope="col">Reason</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {items.map((item) => {
          const event = item.event as { type?: string; time?: string; subject?: string; data?: AuditData };
          const data = event.data ?? {};
          return (
            <tr key={item.seq} data-seq={item.seq}>
              <td class="mono">{item.seq}</td>
              <td>{event.time ? formatTime(event.time) : '—'}</td>
              <td>{event.type === 'keel.audit.read' ? 'read' : 'action'}</td>
              <td>
                {data.actor ?? '—'} <span class="muted mono">{event.subject}</span>
              </td>
              <td class="mono">{data.operation}</td>
              <td class="mono">{targetText(data.target)}</td>
              <td>{data.reason ?? '—'}</td>
              <td>
                <span class={`badge ${data.outcome === 'refused' ? 'failed' : 'succeeded'}`}>
                  {data.outcome}
                </span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

interface AuditData {
  actor?: string;
  operation?: string;
  target?: { params?: Record<string, unknown>; query?: Record<string, unknown> };
  reason?: string;
  outcome?: string;
}

/** Path parameters and query of a record, as `name=value` pairs. */
function targetText(target: AuditData['target']): string {
  const pairs = [...Object.entries(target?.params ?? {}), ...Object.entries(target?.query ?? {})];
  return (
    pairs
      .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ') || '—'
  );
}

/** A `datetime-local` value read as UTC, as the API wants it. */
function isoOf(local: string): string {
  const withSeconds = local.length === 16 ? `${local}:00` : local;
  return `${withSeconds}Z`;
}
