import { useEffect, useState } from 'preact/hooks';
import { openEventStream } from '../lib/event-stream';
import { exportSearch, type MessageFilters } from '../lib/message-filters';
import { MessageRow, type MessageSummary } from './message-row';

/** Newest live messages kept on screen. */
const KEEP = 200;

/** Follows the topic as new messages arrive (server-sent events from `/v1/topics/:topic/live`), newest on top. */
export function LiveTail({ topic, filters }: { topic: string; filters: MessageFilters }) {
  const [messages, setMessages] = useState<MessageSummary[]>([]);
  const [state, setState] = useState<'connecting' | 'open' | 'closed'>('connecting');
  const search = exportSearch(filters, { from: 'now' });
  useEffect(() => {
    setMessages([]);
    return openEventStream(`/v1/topics/${encodeURIComponent(topic)}/live?${search}`, {
      onState: setState,
      onEvent: (_name, data) => {
        const message = JSON.parse(data) as MessageSummary;
        setMessages((shown) => [message, ...shown].slice(0, KEEP));
      },
    });
  }, [topic, search]);
  return (
    <section class="live" aria-label="Live tail">
      <p class="muted" data-live-state={state}>
        {state === 'open'
          ? `Following ${topic}: new messages appear here as they are written.`
          : state === 'connecting'
            ? 'Connecting…'
            : 'The live tail closed; turn it off and on to follow again.'}
      </p>
      <ul class="rows" aria-label="Live messages">
        {messages.map((message) => (
          <li key={`${message.partition}:${message.offset}`}>
            <MessageRow message={message} />
          </li>
        ))}
      </ul>
    </section>
  );
}
