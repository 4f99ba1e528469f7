import type { TextSink } from '../gated-stream.ts';
import type { NodeClient } from './node-client.ts';

/** A job as `GET /v1/jobs/:id` answers it (the fields the CLI shows). */
export interface JobView {
  id: string;
  kind: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: { done: number; total: number | null };
  counts?: Record<string, number>;
  error: string | null;
}

/** Where progress goes: a terminal gets one redrawn bar, anything else a line every few seconds. */
export interface ProgressSink extends TextSink {
  isTTY?: boolean;
}

const BAR_WIDTH = 30;

/** `[#########.....] 45% 4,500/10,000` (or a count while the total is unknown). */
export function progressLine(job: JobView): string {
  const { done, total } = job.progress;
  if (total === null || total === 0) return `${job.kind}: ${done.toLocaleString('en-US')} done`;
  const ratio = Math.min(1, done / total);
  const filled = Math.round(ratio * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`;
}

/**
 * Polls a job until it ends, drawing its progress on `progress` (stderr), and resolves with its last
 * state. Ctrl-C while it runs asks the node to cancel it (the job then ends as `cancelled`).
 */
export async function followJob(
  client: NodeClient,
  jobId: string,
  progress: ProgressSink,
  intervalMs = 250,
): Promise<JobView> {
  let cancelAsked = false;
  const onInterrupt = () => {
    if (cancelAsked) process.exit(130);
    cancelAsked = true;
    progress.write('\ncancelling (Ctrl-C again to leave it running)\n');
    void client.json('POST', `/v1/jobs/${encodeURIComponent(jobId)}/cancel`).catch(() => undefined);
  };
  process.on('SIGINT', onInterrupt);
  let lastLineAt = 0;
  try {
    for (;;) {
      const job = await client.json<JobView>('GET', `/v1/jobs/${encodeURIComponent(jobId)}`);
      const line = progressLine(job);
      if (progress.isTTY) progress.write(`\r${line}`);
      else if (job.status !== 'running' || Date.now() - lastLineAt >= 2_000) {
        progress.write(`${line}\n`);
        lastLineAt = Date.now();
      }
      if (job.status !== 'running') {
        if (progress.isTTY) progress.write('\n');
        return job;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
