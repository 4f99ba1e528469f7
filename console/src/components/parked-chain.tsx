/** Ordered retries per key: a chain head says how many wait behind it; a parked entry links to its head. */
export function ParkedChain({
  group,
  entry,
}: {
  group: string;
  entry: { parkedBehind: number; parkedBehindEntry: string | null };
}) {
  if (entry.parkedBehindEntry)
    return (
      <span class="badge pending" data-parked-behind={entry.parkedBehindEntry}>
        parked behind{' '}
        <a href={`/dead-letters/${encodeURIComponent(group)}/${encodeURIComponent(entry.parkedBehindEntry)}`}>
          {entry.parkedBehindEntry}
        </a>
      </span>
    );
  if (entry.parkedBehind > 0)
    return (
      <span data-chain-head={entry.parkedBehind}>
        {entry.parkedBehind} event{entry.parkedBehind === 1 ? '' : 's'} parked behind this one
      </span>
    );
  return <span class="muted">—</span>;
}
