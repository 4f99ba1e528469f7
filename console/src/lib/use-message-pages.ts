import { useCallback, useEffect, useState } from 'preact/hooks';
import { type ApiProblem, answer, api } from '../api/client';
import type { MessageSummary } from '../components/message-row';
import { apiQueryOf, type MessageFilters, searchOfFilters } from './message-filters';
import { asProblem } from './use-load';

/** Messages fetched per page. */
const PAGE = 200;

/** The pages of a topic's messages fetched so far for one view, and how to fetch the next. */
export interface MessagePages {
  items: MessageSummary[];
  /** Cursor of the next page, or null at the end. */
  next: string | null;
  /** Records the node looked at for these pages (a sparse filter looks at many to find a few). */
  scanned: number;
  loading: boolean;
  error: ApiProblem | undefined;
  loadMore: () => void;
  /** Starts again from the first page (after an import changed the topic). */
  reload: () => void;
}

/** Pages through `GET /v1/topics/:topic/messages` for a view; a new view starts from its first page. */
export function useMessagePages(topic: string, filters: MessageFilters): MessagePages {
  const key = searchOfFilters(filters);
  const [items, setItems] = useState<MessageSummary[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [scanned, setScanned] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiProblem | undefined>();
  const [round, setRound] = useState(0);

  const fetchPage = useCallback(
    (cursor: string | undefined) =>
      answer(
        api.GET('/v1/topics/{topic}/messages', {
          params: {
            path: { topic },
            query: {
              ...apiQueryOf(filters),
              order: filters.order,
              limit: PAGE,
              ...(filters.from && filters.partition ? { from: filters.from } : {}),
              ...(cursor ? { cursor } : {}),
            },
          },
        }),
      ),
    [topic, key],
  );

  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(undefined);
    fetchPage(undefined).then(
      (page) => {
        if (!current) return;
        setItems(page.items);
        setNext(page.next);
        setScanned(page.scanned);
        setLoading(false);
      },
      (failure: unknown) => {
        if (!current) return;
        setItems([]);
        setNext(null);
        setError(asProblem(failure));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [fetchPage, round]);

  const loadMore = () => {
    if (!next || loading) return;
    setLoading(true);
    fetchPage(next).then(
      (page) => {
        setItems((shown) => [...shown, ...page.items]);
        setNext(page.next);
        setScanned((n) => n + page.scanned);
        setLoading(false);
      },
      (failure: unknown) => {
        setError(asProblem(failure));
        setLoading(false);
      },
    );
  };
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { items, next, scanned, loading, error, loadMore, reload };
}
