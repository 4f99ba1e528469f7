import { useState } from 'preact/hooks';
import { type MessageFilters, TEXT_FILTERS } from '../lib/message-filters';

const LABELS: Record<(typeof TEXT_FILTERS)[number], { label: string; placeholder: string }> = {
  partition: { label: 'Partition', placeholder: 'all' },
  from: { label: 'From offset', placeholder: 'with a partition' },
  type: { label: 'Type', placeholder: 'healthcare.patient.created' },
  subject: { label: 'Subject', placeholder: 'exact' },
  key: { label: 'Key', placeholder: 'partition key' },
  correlationId: { label: 'Correlation id', placeholder: 'exact' },
  tenant: { label: 'Tenant', placeholder: 'exact' },
  since: { label: 'Since', placeholder: '2026-01-01T00:00:00Z' },
  until: { label: 'Until', placeholder: 'ISO 8601' },
  cel: { label: 'CEL expression', placeholder: 'data.lastName == "Doe" && event.subject.startsWith("p-")' },
};

/** The browser's filters as a form; submitting puts them in the URL (the page reads them from there). */
export function MessageFilterForm({
  filters,
  onApply,
}: {
  filters: MessageFilters;
  onApply: (next: MessageFilters) => void;
}) {
  const [draft, setDraft] = useState<MessageFilters>(filters);
  const set = (name: keyof MessageFilters, value: string) =>
    setDraft({ ...draft, [name]: value || undefined });
  return (
    <form
      class="filters"
      aria-label="Message filters"
      onSubmit={(event) => {
        event.preventDefault();
        onApply(draft);
      }}
    >
      {TEXT_FILTERS.map((name) => (
        <label key={name} class={name === 'cel' ? 'wide' : undefined}>
          <span>{LABELS[name].label}</span>
          <input
            name={name}
            value={draft[name] ?? ''}
            placeholder={LABELS[name].placeholder}
            inputMode={name === 'partition' || name === 'from' ? 'numeric' : undefined}
            onInput={(event) => set(name, event.currentTarget.value)}
          />
        </label>
      ))}
      <label>
        <span>Order</span>
        <select
          name="order"
          value={draft.order}
          onChange={(event) =>
            setDraft({ ...draft, order: event.currentTarget.value as MessageFilters['order'] })
          }
        >
          <option value="newest">newest first</option>
          <option value="oldest">oldest first</option>
        </select>
      </label>
      <label class="wide">
        <span>Conditions on the event, one per line</span>
        <textarea
          name="where"
          rows={2}
          placeholder={'data.age>=65\ndata.status=="admitted"'}
          value={draft.where.join('\n')}
          onInput={(event) =>
            setDraft({
              ...draft,
              where: event.currentTarget.value
                .split('\n')
                .map((l) => l.trim())
                .filter(Boolean),
            })
          }
        />
      </label>
      <div class="actions">
        <button type="submit">Apply</button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            const cleared: MessageFilters = { order: 'newest', where: [] };
            setDraft(cleared);
            onApply(cleared);
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}
