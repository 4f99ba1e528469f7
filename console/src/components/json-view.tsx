/** Tokens of pretty-printed JSON, for colouring: keys, strings, numbers, literals. */
const TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|\b(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\b|\b(true|false|null)\b/g;

/** A value as indented JSON with keys, strings and numbers in their own colours (text stays selectable). */
export function JsonView({ value }: { value: unknown }) {
  const text = JSON.stringify(value, null, 2) ?? 'undefined';
  const parts: (string | preact.JSX.Element)[] = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const index = match.index ?? 0;
    if (index > last) parts.push(text.slice(last, index));
    const kind = match[1] ? (match[2] ? 'key' : 'string') : match[3] ? 'number' : 'literal';
    parts.push(<span class={`json-${kind}`}>{match[1] ?? match[0]}</span>);
    if (match[2]) parts.push(match[2]);
    last = index + match[0].length;
  }
  parts.push(text.slice(last));
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a long block must be scrollable with the keyboard.
    <pre class="json" tabIndex={0}>
      {parts}
    </pre>
  );
}
