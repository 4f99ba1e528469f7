import type { Answer } from '../api/client';
import { formatBytes, formatTime } from '../lib/format';

/** One message as the browser and the live tail list it. */
export type MessageSummary = Answer<'browseMessages'>['items'][number];

/** A message on one line: where it is, when, its type and subject; a link to the whole of it. */
export function MessageRow({ message }: { message: MessageSummary }) {
  const event = message.event ?? {};
  const href = `/topics/${encodeURIComponent(message.topic)}/messages/${message.partition}/${message.offset}`;
  return (
    <a class="message-row" data-row-link href={href}>
      <span class="mono">
        {message.partition}:{message.offset}
      </span>
      <span>{formatTime(message.timestamp)}</span>
      <span class="type">{String(event.type ?? (message.event ? '' : 'not a CloudEvent'))}</span>
      <span class="mono muted">{String(event.subject ?? message.key ?? '')}</span>
      <span class="num muted">{formatBytes(message.size)}</span>
    </a>
  );
}
