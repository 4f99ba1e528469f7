import { useState } from 'preact/hooks';
import { ApiProblem } from '../api/client';
import { exportSearch, type MessageFilters } from '../lib/message-filters';
import { asProblem } from '../lib/use-load';
import { authHeaders, credential } from '../state/session';
import { ProblemNotice } from './problem-notice';

/**
 * Downloads the selection as NDJSON or CSV. The browser streams the file itself (an export may be large);
 * a one-event request first finds out whether the node refuses (export turned off, a filter it cannot
 * read), so the refusal is shown here instead of a failed download.
 */
export function ExportLinks({ topic, filters }: { topic: string; filters: MessageFilters }) {
  const [error, setError] = useState<ApiProblem | undefined>();
  const extra: Record<string, string> = filters.from && filters.partition ? { from: filters.from } : {};
  const href = (format: 'ndjson' | 'csv', limit?: string) =>
    `/v1/topics/${encodeURIComponent(topic)}/export?${exportSearch(filters, { format, ...extra, ...(limit ? { limit } : {}) })}`;

  const download = async (event: MouseEvent, format: 'ndjson' | 'csv') => {
    event.preventDefault();
    const link = event.currentTarget as HTMLAnchorElement;
    setError(undefined);
    const probe = new AbortController();
    try {
      const response = await fetch(href(format, '1'), { signal: probe.signal, headers: authHeaders() });
      if (!response.ok) {
        setError(asProblem(await problemOf(response)));
        return;
      }
      probe.abort();
      const real = document.createElement('a');
      // With a credential the browser cannot send it on a plain link: the file is fetched, then saved.
      real.href = credential.value
        ? URL.createObjectURL(await (await fetch(link.href, { headers: authHeaders() })).blob())
        : link.href;
      real.download = link.download;
      real.click();
    } catch (failure) {
      setError(asProblem(failure));
    }
  };

  return (
    <>
      <a
        class="button secondary"
        href={href('ndjson')}
        download={`${topic}.ndjson`}
        onClick={(e) => download(e, 'ndjson')}
      >
        Export NDJSON
      </a>
      <a
        class="button secondary"
        href={href('csv')}
        download={`${topic}.csv`}
        onClick={(e) => download(e, 'csv')}
      >
        Export CSV
      </a>
      {error && (
        <div class="toolbar-problem">
          <ProblemNotice error={error} />
        </div>
      )}
    </>
  );
}

/** The node's problem details of a refused request (or one made up when the body is not one). */
async function problemOf(response: Response): Promise<ApiProblem> {
  const body = await response.json().catch(() => undefined);
  return new ApiProblem(
    body && typeof body === 'object' && 'title' in body
      ? body
      : {
          type: 'about:blank',
          title: response.statusText,
          status: response.status,
          detail: `the node answered ${response.status}`,
        },
  );
}
