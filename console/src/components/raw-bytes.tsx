/** Bytes shown per line of the dump. */
const WIDTH = 16;
/** Most bytes drawn (a large value is cut, with a note). */
const MAX = 4096;

/** A value's raw bytes as a hex dump with their printable characters beside. */
export function RawBytes({ base64 }: { base64: string | null }) {
  if (base64 === null) return <p class="muted">A tombstone: no value.</p>;
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const lines: string[] = [];
  for (let at = 0; at < Math.min(bytes.length, MAX); at += WIDTH) {
    const chunk = bytes.subarray(at, at + WIDTH);
    const hex = [...chunk].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = [...chunk].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(6, '0')}  ${hex.padEnd(WIDTH * 3)} ${text}`);
  }
  return (
    <>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a long block must be scrollable with the keyboard. */}
      <pre class="hex" tabIndex={0}>
        {lines.join('\n')}
      </pre>
      {bytes.length > MAX && (
        <p class="muted">
          First {MAX} of {bytes.length} bytes.
        </p>
      )}
    </>
  );
}
