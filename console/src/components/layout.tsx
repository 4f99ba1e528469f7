import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { identity } from '../state/session';
import { notice, theme, toggleTheme } from '../state/store';
import { SessionBadge, SignIn, useSession } from './sign-in';

/** The console's pages, in the order of the navigation (the keys `g` then a letter go to each). */
export const PAGES = [
  { href: '/', label: 'Overview', key: 'o' },
  { href: '/topics', label: 'Topics', key: 't' },
  { href: '/groups', label: 'Consumer groups', key: 'g' },
  { href: '/dead-letters', label: 'Dead letters', key: 'd' },
  { href: '/store', label: 'Event store', key: 's' },
  { href: '/workflows', label: 'Workflows', key: 'w' },
  { href: '/subscriptions', label: 'Subscriptions', key: 'u' },
  { href: '/trace', label: 'Trace', key: 'r' },
  { href: '/query', label: 'Query', key: 'q' },
  { href: '/catalog', label: 'Catalog', key: 'c' },
  { href: '/jobs', label: 'Jobs', key: 'j' },
  { href: '/audit', label: 'Audit', key: 'a' },
] as const;

/** Navigation, who is signed in, theme switch, notices and the page itself (or the sign-in form). */
export function Layout({ children }: { children: ComponentChildren }) {
  const { path, route } = useLocation();
  useGoToShortcuts(route);
  useSession();
  const signedOut = identity.value === null;
  const current = PAGES.filter((page) => (page.href === '/' ? path === '/' : path.startsWith(page.href))).at(
    -1,
  );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          Keel
        </a>
        <nav aria-label="Pages">
          {PAGES.map((page) => (
            <a key={page.href} href={page.href} aria-current={page === current ? 'page' : undefined}>
              {page.label}
            </a>
          ))}
        </nav>
        <a class="api-link" href="/v1/docs">
          API
        </a>
        <SessionBadge />
        <button
          type="button"
          class="theme"
          onClick={toggleTheme}
          aria-label={`Switch to ${theme.value === 'dark' ? 'light' : 'dark'} theme`}
        >
          {theme.value === 'dark' ? '☀' : '☾'}
        </button>
      </header>
      <main id="main">{signedOut ? <SignIn /> : identity.value === undefined ? null : children}</main>
      <div class="notices" aria-live="polite">
        {notice.value && <div class={`notice ${notice.value.kind}`}>{notice.value.text}</div>}
      </div>
    </>
  );
}

/** `g` then a page's key goes there; `/` focuses the page's first search or filter box. */
function useGoToShortcuts(route: (url: string) => void): void {
  // One listener for the console's life: the latest `route` is read through a ref, so a re-render
  // between the two keys cannot drop the first.
  const latestRoute = useRef(route);
  latestRoute.current = route;
  useEffect(() => {
    let pending = false;
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (event.ctrlKey || event.metaKey || event.altKey || /INPUT|TEXTAREA|SELECT/.test(target.tagName))
        return;
      if (pending) {
        pending = false;
        const page = PAGES.find((p) => p.key === event.key);
        if (page) latestRoute.current(page.href);
        return;
      }
      if (event.key === 'g') pending = true;
      if (event.key === '/') {
        const box = document.querySelector<HTMLInputElement>('main input');
        if (box) {
          event.preventDefault();
          box.focus();
        }
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
}
