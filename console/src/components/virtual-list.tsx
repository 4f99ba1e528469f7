import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

/** Rows drawn above and below the visible ones, so fast scrolling shows no blank. */
const OVERSCAN = 8;

/**
 * A list of many rows of one height that renders only those in view (a page of 500 messages draws
 * about 30 rows). `onEnd` is called when the reader scrolls near the end, to fetch the next page.
 */
export function VirtualList<T>({
  items,
  rowHeight,
  height,
  label,
  row,
  onEnd,
}: {
  items: T[];
  rowHeight: number;
  height: number;
  label: string;
  row: (item: T, index: number) => ComponentChildren;
  onEnd?: () => void;
}) {
  const [top, setTop] = useState(0);
  const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
  const last = Math.min(items.length, Math.ceil((top + height) / rowHeight) + OVERSCAN);
  return (
    <div
      class="virtual"
      style={{ height: `${Math.min(height, items.length * rowHeight + 2)}px` }}
      onScroll={(event) => {
        const element = event.currentTarget;
        setTop(element.scrollTop);
        if (onEnd && element.scrollTop + element.clientHeight >= element.scrollHeight - rowHeight * 4)
          onEnd();
      }}
    >
      <ul aria-label={label} style={{ height: `${items.length * rowHeight}px` }}>
        {items.slice(first, last).map((item, offset) => (
          <li
            key={first + offset}
            class="virtual-row"
            style={{ top: `${(first + offset) * rowHeight}px`, height: `${rowHeight}px` }}
          >
            {row(item, first + offset)}
          </li>
        ))}
      </ul>
    </div>
  );
}
