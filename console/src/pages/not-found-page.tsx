import { EmptyState } from '../components/empty-state';

/** A console address that names no page. */
export function NotFoundPage() {
  return (
    <section aria-labelledby="not-found-title">
      <h1 id="not-found-title">No such page</h1>
      <EmptyState title="This address is not a page of the console">
        Pick a page above, or go to the <a href="/">overview</a>.
      </EmptyState>
    </section>
  );
}
