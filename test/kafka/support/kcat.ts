import { spawnSync } from 'node:child_process';

/** Result of one kcat run: its stdout, with stderr kept for failure messages. */
export interface KcatRun {
  stdout: string;
  stderr: string;
}

/** Runs `kcat` with `args` (and `input` on stdin), failing with its stderr when it exits non-zero or takes over 30 s. */
export function kcat(args: readonly string[], input?: string): KcatRun {
  const run = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: 30_000 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`kcat ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return { stdout: run.stdout, stderr: run.stderr };
}
