/** Digits grouped for reading (`1 234 567`); offsets and counts arrive as strings of digits or numbers. */
export function formatCount(value: string | number | bigint | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return BigInt(value).toLocaleString('en-US');
}

/** A time as `2026-12-03 13:47:53` in the reader's zone, or a dash. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A rate per second with one decimal (`12.5/s`). */
export function formatRate(perSecond: number): string {
  return `${perSecond.toFixed(1)}/s`;
}

/** A duration in ms as `850 ms` or `12.3 s`. */
export function formatMillis(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Bytes as B, kB or MB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
