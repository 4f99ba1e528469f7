import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A line a child wrote to stdout, with the parent's clock when it arrived. */
export interface ChildLine {
  text: string;
  /** `Date.now()` in the parent when the line was read. */
  at: number;
}

/** A test-support script running in its own Node process. */
export interface Child {
  readonly process: ChildProcess;
  /** Complete stdout lines so far (a line cut short by a kill is not included). */
  readonly lines: ChildLine[];
  /** Resolves with the first line (from `from` on) matching `match`; fails after `timeoutMs`. */
  waitForLine(match: (text: string) => boolean, timeoutMs: number, from?: number): Promise<ChildLine>;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** Everything the child wrote to stderr, for failure messages. */
  stderr(): string;
  /** SIGKILLs the process unless it is already gone, and resolves once it is. */
  kill(): Promise<void>;
}

/**
 * Runs a script with this process's Node (24, which strips the TypeScript types); `script` is a `file:` URL,
 * usually `new URL('./test-support/x.ts', import.meta.url).href` from the caller.
 */
export function runScript(script: string, args: readonly string[]): Child {
  const path = fileURLToPath(script);
  const child = spawn(process.execPath, [path, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: ChildLine[] = [];
  const listeners = new Set<() => void>();
  let partial = '';
  let errors = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    const at = Date.now();
    for (const text of parts) lines.push({ text, at });
    for (const listener of [...listeners]) listener();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    errors += chunk;
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.on('close', (code, signal) => resolve(code ?? signal));
  });
  return {
    process: child,
    lines,
    exited,
    stderr: () => errors,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    waitForLine: (match, timeoutMs, from = 0) =>
      new Promise<ChildLine>((resolve, reject) => {
        let settled = false;
        const settle = (outcome: () => void): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          listeners.delete(check);
          outcome();
        };
        const check = (): void => {
          const line = lines.slice(from).find((l) => match(l.text));
          if (line !== undefined) settle(() => resolve(line));
        };
        const timer = setTimeout(() => {
          settle(() =>
            reject(
              new Error(
                `timed out after ${timeoutMs} ms waiting for a line from ${script}; stderr: ${errors}`,
              ),
            ),
          );
        }, timeoutMs);
        listeners.add(check);
        check();
        void exited.then((status) => {
          check();
          settle(() =>
            reject(new Error(`${script} exited (${status}) before the expected line; stderr: ${errors}`)),
          );
        });
      }),
  };
}
