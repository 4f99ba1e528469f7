import { useState } from 'preact/hooks';
import { type ApiProblem, answer, api } from '../api/client';
import { asProblem } from '../lib/use-load';
import { ProblemNotice } from './problem-notice';

/** A new Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes from the browser. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/** The fields an operator fills in; empty ones are left out of the request. */
interface Draft {
  name: string;
  url: string;
  types: string;
  condition: string;
  mode: 'binary' | 'structured';
  ratePerSecond: string;
}

const EMPTY: Draft = { name: '', url: '', types: '', condition: '', mode: 'binary', ratePerSecond: '' };

/** The create request of a draft: the node checks every field and names the ones it refuses. */
function requestOf(draft: Draft, secret: string) {
  const types = draft.types
    .split(',')
    .map((type) => type.trim())
    .filter(Boolean);
  const rate = draft.ratePerSecond.trim();
  return {
    name: draft.name.trim(),
    url: draft.url.trim(),
    secret,
    mode: draft.mode,
    filter: {
      ...(types.length > 0 ? { types } : {}),
      ...(draft.condition.trim() ? { condition: draft.condition.trim() } : {}),
    },
    ...(rate ? { policy: { ratePerSecond: Number(rate) } } : {}),
  };
}

/**
 * Creates a subscription with a secret made in the browser, shown once after the node accepted it (the
 * node never shows it again); a refused field is named in the problem shown.
 */
export function SubscriptionForm({ onCreated }: { onCreated: () => void }) {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [error, setError] = useState<ApiProblem | undefined>();
  const [shownSecret, setShownSecret] = useState<{ name: string; secret: string } | undefined>();
  const field = (key: keyof Draft) => ({
    name: key,
    value: draft[key],
    onInput: (event: Event) => setDraft({ ...draft, [key]: (event.currentTarget as HTMLInputElement).value }),
  });
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    const secret = newSecret();
    try {
      const created = await answer(api.POST('/v1/subscriptions', { body: requestOf(draft, secret) }));
      setShownSecret({ name: created.name, secret });
      setDraft(EMPTY);
      onCreated();
    } catch (failure) {
      setError(asProblem(failure));
    }
  };
  return (
    <form class="filters" aria-labelledby="create-subscription-title" onSubmit={submit}>
      <h2 id="create-subscription-title" class="wide">
        New subscription
      </h2>
      <label>
        <span>Name</span>
        <input {...field('name')} placeholder="billing" required />
      </label>
      <label class="wide">
        <span>Endpoint URL</span>
        <input {...field('url')} type="url" placeholder="https://billing.internal/keel" required />
      </label>
      <label>
        <span>Event types</span>
        <input {...field('types')} placeholder="every type" />
      </label>
      <label class="wide">
        <span>Condition (CEL)</span>
        <input {...field('condition')} placeholder='data.patientId.startsWith("p-")' />
      </label>
      <label>
        <span>Mode</span>
        <select {...field('mode')}>
          <option value="binary">binary</option>
          <option value="structured">structured</option>
        </select>
      </label>
      <label>
        <span>Requests per second</span>
        <input {...field('ratePerSecond')} inputMode="decimal" placeholder="no limit" />
      </label>
      <div class="actions wide">
        <button type="submit">Create</button>
      </div>
      {error && (
        <div class="wide">
          <ProblemNotice error={error} />
        </div>
      )}
      {shownSecret && (
        <p class="wide" data-new-secret>
          Created <a href={`/subscriptions/${encodeURIComponent(shownSecret.name)}`}>{shownSecret.name}</a>.
          Its signing secret, shown once (receivers verify with it): <code>{shownSecret.secret}</code>
        </p>
      )}
    </form>
  );
}
