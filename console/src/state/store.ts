import { signal } from '@preact/signals';

/**
 * The console's shared state, in one place: the theme, the notice shown after an action, and the
 * overview's figures (kept while the reader visits other pages, so the charts go on where they were).
 * Pages keep only what they fetched for themselves.
 */

/** Colour scheme; remembered in localStorage, first taken from the system. */
export type Theme = 'light' | 'dark';

/** The current theme. */
export const theme = signal<Theme>((document.documentElement.dataset.theme as Theme) ?? 'light');

/** Switches between light and dark and remembers the choice. */
export function toggleTheme(): void {
  theme.value = theme.value === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = theme.value;
  localStorage.setItem('keel.theme', theme.value);
}

/** A short message after an action: what happened, or what went wrong. */
export interface Notice {
  kind: 'success' | 'error';
  text: string;
}

/** The notice on screen, if any. */
export const notice = signal<Notice | undefined>(undefined);

/** Shows a notice for a few seconds. */
export function announce(kind: Notice['kind'], text: string): void {
  notice.value = { kind, text };
  const shown = notice.value;
  setTimeout(() => {
    if (notice.value === shown) notice.value = undefined;
  }, 6000);
}

/** One reading of the node's figures. */
export interface OverviewPoint {
  /** Seconds since the epoch. */
  at: number;
  /** Records appended to the catalog topics per second, by anyone. */
  appendRate: number;
  /** Records the consumer groups committed past per second. */
  consumeRate: number;
  /** Failures per second: records dead-lettered and publishes that failed. */
  failureRate: number;
  totalLag: number;
  /** Records held in the groups' dead-letter topics. */
  deadLetters: number;
  /** Circuit breakers by name. */
  breakers: Record<string, 'closed' | 'open' | 'half-open'>;
}

/** Unended workflow instances at risk, breached and needing an operator; null when the node runs no workflows. */
export const workflowsAtRisk = signal<{ atRisk: number; breached: number; needsOperator: number } | null>(
  null,
);

/** The last readings (two minutes at one every two seconds), oldest first. */
export const overviewSeries = signal<OverviewPoint[]>([]);

/** Readings kept for the charts. */
export const OVERVIEW_POINTS = 60;

/** Adds a reading, dropping the oldest beyond the window. */
export function recordOverview(point: OverviewPoint): void {
  overviewSeries.value = [...overviewSeries.value, point].slice(-OVERVIEW_POINTS);
}
