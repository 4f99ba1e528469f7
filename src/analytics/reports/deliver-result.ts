import { createReadStream } from 'node:fs';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import { KeelError } from '../../errors/keel-error.ts';
import type { ReportSpec } from './report-spec.ts';

/** A report's result, in a file of the exports folder. */
export interface ReportResult {
  file: string;
  /** Name of the delivered file in a folder destination. */
  name: string;
  mediaType: string;
  rows: number;
}

/** A webhook answered with a status other than 2xx. */
export class ReportDeliveryError extends KeelError {
  readonly code = 'KEEL_ANALYTICS_REPORT_DELIVERY';
  /** The status it answered. */
  readonly status: number;

  constructor(url: string, status: number) {
    super(`POST ${url} answered ${status}`);
    this.status = status;
  }
}

/**
 * Delivers the result to the report's destination, retrying with exponential backoff (cockatiel) up to
 * `attempts` times, calling `onAttempt` before each; rejects with the last attempt's error.
 */
export async function deliverResult(
  spec: ReportSpec,
  result: ReportResult,
  onAttempt: () => void,
): Promise<void> {
  const policy = retry(handleAll, {
    maxAttempts: spec.attempts - 1,
    backoff: new ExponentialBackoff({ initialDelay: spec.initialDelayMs, maxDelay: spec.maxDelayMs }),
  });
  await policy.execute(async () => {
    onAttempt();
    if ('folder' in spec.destination) {
      await mkdir(spec.destination.folder, { recursive: true });
      await copyFile(result.file, join(spec.destination.folder, result.name));
      return;
    }
    const url = spec.destination.webhook;
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': result.mediaType,
        'content-length': String((await stat(result.file)).size),
        'keel-report': spec.name,
        'keel-report-rows': String(result.rows),
      },
      body: createReadStream(result.file) as never,
      duplex: 'half',
      signal: AbortSignal.timeout(30_000),
    } as RequestInit);
    await response.body?.cancel();
    if (!response.ok) throw new ReportDeliveryError(url, response.status);
  });
}
