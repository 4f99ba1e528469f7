/** How far a job got: a bar and `done / total`. */
export function ProgressBar({ label, done, total }: { label: string; done: number; total: number | null }) {
  return (
    <div class="progress">
      <progress aria-label={label} max={total ?? undefined} value={total === null ? undefined : done} />
      <span>
        {done}
        {total === null ? '' : ` / ${total}`}
      </span>
    </div>
  );
}
