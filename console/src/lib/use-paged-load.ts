import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ApiProblem } from '../api/client';
import { asProblem } from './use-load';

/** One page of a cursor-paginated list, as every list of the API answers. */
export interface Page<Item> {
  items: Item[];
  next?: string | null;
}

/** A list fetched page by page: what came so far, and how to fetch the next page. */
export interface PagedLoad<Item, First = Page<Item>> {
  /** Every item of the pages fetched so far; undefined until the first page came. */
  items: Item[] | undefined;
  /** The first page's whole answer (lists with a header, such as a stream's version, carry it there). */
  first: First | undefined;
  error: ApiProblem | undefined;
  loading: boolean;
  /** Whether the API has more after the last page fetched. */
  hasMore: boolean;
  /** Fetches the next page and appends it (nothing while a page is on its way). */
  more: () => void;
  /** Starts again from the first page (after an action changed what is shown). */
  reload: () => void;
}

interface PagedState<Item, First> {
  items?: Item[];
  first?: First;
  next?: string | null;
  error?: ApiProblem;
  loading: boolean;
}

/**
 * Fetches the first page when `deps` change, and each next page on `more()`; an answer for an older
 * `deps` (or a reload) never lands in the newer list.
 */
export function usePagedLoad<First extends Page<unknown>>(
  loadPage: (cursor: string | undefined) => Promise<First>,
  deps: unknown[],
): PagedLoad<First['items'][number], First> {
  type Item = First['items'][number];
  const [state, setState] = useState<PagedState<Item, First>>({ loading: true });
  const [round, setRound] = useState(0);
  const generation = useRef(0);
  const latest = useRef(state);
  latest.current = state;

  const fetchPage = (cursor: string | undefined, append: boolean) => {
    const mine = generation.current;
    setState((previous) => ({ ...previous, loading: true }));
    loadPage(cursor).then(
      (page) => {
        if (generation.current !== mine) return;
        setState((previous) => ({
          items: append ? [...(previous.items ?? []), ...page.items] : page.items,
          first: append ? previous.first : page,
          next: page.next ?? null,
          loading: false,
        }));
      },
      (error: unknown) => {
        if (generation.current === mine)
          setState((previous) => ({ ...previous, error: asProblem(error), loading: false }));
      },
    );
  };

  useEffect(() => {
    generation.current++;
    fetchPage(undefined, false);
  }, [...deps, round]);

  const more = useCallback(() => {
    const { next, loading } = latest.current;
    if (next && !loading) fetchPage(next, true);
  }, []);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return {
    items: state.items,
    first: state.first,
    error: state.error,
    loading: state.loading,
    hasMore: Boolean(state.next),
    more,
    reload,
  };
}
