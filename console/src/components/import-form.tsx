import { useState } from 'preact/hooks';
import { type ApiProblem, answer, api } from '../api/client';
import { asProblem } from '../lib/use-load';
import { announce } from '../state/store';
import { ProblemNotice } from './problem-notice';

/** Sends an NDJSON export back into a topic (`POST /v1/topics/:topic/import`), all or nothing. */
export function ImportForm({ topic, onImported }: { topic: string; onImported: () => void }) {
  const [file, setFile] = useState<File | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiProblem | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(undefined);
    try {
      const result = await answer(
        api.POST('/v1/topics/{topic}/import', {
          params: { path: { topic } },
          body: await file.text(),
          bodySerializer: (body) => body,
          headers: { 'content-type': 'application/x-ndjson' },
        }),
      );
      announce(
        'success',
        `Imported ${result.imported} events into ${topic} (${result.replayed} already there).`,
      );
      onImported();
    } catch (failure) {
      setError(asProblem(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="import" onSubmit={submit}>
      <label>
        <span>Import an NDJSON export</span>
        <input
          type="file"
          name="import"
          accept=".ndjson,.jsonl,application/x-ndjson"
          onChange={(event) => setFile(event.currentTarget.files?.[0])}
        />
      </label>
      <button type="submit" disabled={!file || busy}>
        {busy ? 'Importing…' : 'Import'}
      </button>
      {error && <ProblemNotice error={error} />}
    </form>
  );
}
