import { useState } from 'preact/hooks';
import { type Answer, type ApiProblem, answer, api } from '../api/client';
import { formatCount } from '../lib/format';
import { asProblem } from '../lib/use-load';
import { announce } from '../state/store';
import { ProblemNotice } from './problem-notice';

type ResetPlan = Answer<'resetGroupOffsets'>;
type Target = 'earliest' | 'latest' | 'offset' | 'time';

/**
 * Moves a group's offsets on one topic: a dry run first shows each partition's change and the lag it
 * leaves, then the same request applies it (the node refuses while the group is live).
 */
export function ResetOffsetsForm({
  group,
  topics,
  live,
  onApplied,
}: {
  group: string;
  topics: string[];
  live: boolean;
  onApplied: () => void;
}) {
  const [topic, setTopic] = useState(topics[0] ?? '');
  const [target, setTarget] = useState<Target>('earliest');
  const [value, setValue] = useState('');
  const [reason, setReason] = useState('');
  const [plan, setPlan] = useState<ResetPlan | undefined>();
  const [error, setError] = useState<ApiProblem | undefined>();
  const [busy, setBusy] = useState(false);

  const run = async (dryRun: boolean) => {
    setBusy(true);
    setError(undefined);
    const to = target === 'offset' ? { offset: value } : target === 'time' ? { time: value } : target;
    try {
      const result = await answer(
        api.POST('/v1/groups/{group}/reset', {
          params: { path: { group } },
          body: { topic, to, dryRun, ...(reason ? { reason } : {}) },
        }),
      );
      setPlan(result);
      if (result.applied) {
        announce('success', `Moved ${group} on ${topic}: ${result.changes.length} partitions.`);
        onApplied();
      }
    } catch (failure) {
      setError(asProblem(failure));
    } finally {
      setBusy(false);
    }
  };
  const change = () => setPlan(undefined);

  return (
    <form
      class="reset"
      aria-labelledby="reset-title"
      onSubmit={(event) => {
        event.preventDefault();
        run(true);
      }}
    >
      <h2 id="reset-title">Reset offsets</h2>
      {live && (
        <p class="warn-text">
          The group has live members: a dry run works, but the node refuses to move offsets until they stop.
        </p>
      )}
      <div class="fields">
        <label>
          <span>Topic</span>
          <select
            name="topic"
            value={topic}
            onChange={(e) => {
              setTopic(e.currentTarget.value);
              change();
            }}
          >
            {topics.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <label>
          <span>To</span>
          <select
            name="target"
            value={target}
            onChange={(e) => {
              setTarget(e.currentTarget.value as Target);
              change();
            }}
          >
            <option value="earliest">earliest</option>
            <option value="latest">latest</option>
            <option value="offset">an offset</option>
            <option value="time">a time</option>
          </select>
        </label>
        {(target === 'offset' || target === 'time') && (
          <label>
            <span>{target === 'offset' ? 'Offset' : 'Time (ISO 8601)'}</span>
            <input
              name="value"
              value={value}
              onInput={(e) => {
                setValue(e.currentTarget.value);
                change();
              }}
            />
          </label>
        )}
        <label>
          <span>Reason (recorded)</span>
          <input name="reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
      </div>
      <div class="actions">
        <button type="submit" disabled={busy || !topic}>
          Dry run
        </button>
        <button
          type="button"
          class="danger"
          disabled={busy || !plan || plan.applied}
          onClick={() => run(false)}
        >
          Apply this change
        </button>
      </div>
      {error && <ProblemNotice error={error} />}
      {plan && <ResetPlanTable plan={plan} />}
    </form>
  );
}

/** Each partition's move: from, to, and the lag before and after. */
function ResetPlanTable({ plan }: { plan: ResetPlan }) {
  return (
    <table class="table compact" data-reset-plan={plan.applied ? 'applied' : 'dry-run'}>
      <caption>{plan.applied ? 'Applied' : 'Dry run: nothing moved yet'}</caption>
      <thead>
        <tr>
          <th scope="col" class="num">
            Partition
          </th>
          <th scope="col" class="num">
            From
          </th>
          <th scope="col" class="num">
            To
          </th>
          <th scope="col" class="num">
            Lag before
          </th>
          <th scope="col" class="num">
            Lag after
          </th>
        </tr>
      </thead>
      <tbody>
        {plan.changes.map((c) => (
          <tr key={c.partition}>
            <td class="num">{c.partition}</td>
            <td class="num">{formatCount(c.from)}</td>
            <td class="num">{formatCount(c.to)}</td>
            <td class="num">{formatCount(c.lagBefore)}</td>
            <td class="num">{formatCount(c.lagAfter)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
