import type { ComponentChildren } from 'preact';

/** Nothing to show yet, and what to do about it. */
export function EmptyState({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <div class="empty">
      <strong>{title}</strong>
      <div>{children}</div>
    </div>
  );
}
