import type { PagedLoad } from '../lib/use-paged-load';

/** How many of a list are shown, and a button that fetches the next page while the API has more. */
export function LoadMore({ list, what }: { list: PagedLoad<unknown>; what: string }) {
  if (!list.items || (!list.hasMore && list.items.length === 0)) return null;
  return (
    <p class="load-more" data-load-more>
      <span class="muted" data-shown-count>
        {list.items.length.toLocaleString('en-US')} {what} shown{list.hasMore ? '; there are more' : ''}.
      </span>
      {list.hasMore && (
        <button type="button" class="secondary" onClick={list.more} disabled={list.loading}>
          {list.loading ? 'Loading…' : `Load more ${what}`}
        </button>
      )}
    </p>
  );
}
