/** The message browser's view, as kept in the URL so a link shares it exactly. */
export interface MessageFilters {
  partition?: string;
  from?: string;
  order: 'newest' | 'oldest';
  type?: string;
  subject?: string;
  key?: string;
  correlationId?: string;
  tenant?: string;
  since?: string;
  until?: string;
  /** A CEL expression over `event`, `data`, `key`, `partition`, `offset` and `timestamp` that must be true. */
  cel?: string;
  /** Conditions on the event (`data.age>=65`), all must hold. */
  where: string[];
}

/** Single-valued filters, in the order the form shows them. */
export const TEXT_FILTERS = [
  'partition',
  'from',
  'type',
  'subject',
  'key',
  'correlationId',
  'tenant',
  'since',
  'until',
  'cel',
] as const;

/** Reads the filters from a query string (`?type=...&where=a&where=b`). */
export function filtersFromSearch(search: string): MessageFilters {
  const params = new URLSearchParams(search);
  const filters: MessageFilters = {
    order: params.get('order') === 'oldest' ? 'oldest' : 'newest',
    where: params.getAll('where').filter(Boolean),
  };
  for (const name of TEXT_FILTERS) {
    const value = params.get(name)?.trim();
    if (value) filters[name] = value;
  }
  return filters;
}

/** The query string of a view (without `?`); empty filters are left out, `where` repeats. */
export function searchOfFilters(filters: MessageFilters): string {
  const params = new URLSearchParams();
  for (const name of TEXT_FILTERS) if (filters[name]) params.set(name, filters[name]!);
  if (filters.order !== 'newest') params.set('order', filters.order);
  for (const condition of filters.where) params.append('where', condition);
  return params.toString();
}

/** The filters as the API's query (`browseMessages`, `exportTopic`, `tailTopic` share them). */
export function apiQueryOf(filters: MessageFilters) {
  return {
    ...(filters.partition ? { partition: Number(filters.partition) } : {}),
    ...(filters.type ? { type: filters.type } : {}),
    ...(filters.subject ? { subject: filters.subject } : {}),
    ...(filters.key ? { key: filters.key } : {}),
    ...(filters.correlationId ? { correlationId: filters.correlationId } : {}),
    ...(filters.tenant ? { tenant: filters.tenant } : {}),
    ...(filters.since ? { since: filters.since } : {}),
    ...(filters.until ? { until: filters.until } : {}),
    ...(filters.cel ? { cel: filters.cel } : {}),
    ...(filters.where.length > 0 ? { where: filters.where } : {}),
  };
}

/** The query string of an export (or live tail) of the same selection. */
export function exportSearch(filters: MessageFilters, extra: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(apiQueryOf(filters))) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  return params.toString();
}
