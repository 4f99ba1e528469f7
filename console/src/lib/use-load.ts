import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiProblem } from '../api/client';

/** What a page fetched: the data once it came, or why it did not. */
export interface Loaded<T> {
  data: T | undefined;
  error: ApiProblem | undefined;
  loading: boolean;
  /** Fetches again (after an action changed what is shown). */
  reload: () => void;
}

/** Runs `load` when `deps` change and keeps its latest answer; an older answer never replaces a newer one. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiProblem; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState({ error: asProblem(error), loading: false }),
    );
    return () => {
      current = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** Any thrown value as an ApiProblem, so the console shows every failure the same way. */
export function asProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new ApiProblem({ type: 'about:blank', title: 'Something went wrong', status: 0, detail });
}
