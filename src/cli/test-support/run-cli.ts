import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Path of the CLI entry point, run from source under Node's type stripping. */
export const CLI_PATH = fileURLToPath(new URL('../main.ts', import.meta.url));

/** Root of the package (where `examples/` lives). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** How a child process ended and everything it printed. */
export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A child process whose output is collected as it comes. */
export interface WatchedProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Everything printed on stderr so far. */
  stderr(): string;
  /** Resolves once stdout holds a complete line matching `pattern` (rejects on exit or after `timeoutMs`). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited and its streams are closed. */
  exited: Promise<CliResult>;
}

/** The environment without any KEEL_* variable of the surrounding shell, plus `env`. */
export function cleanEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KEEL_')));
  return { ...base, ...env };
}

/** Starts `node <script> <args>` (the Node running the tests, so Node 24) and watches its output. */
export function spawnScript(
  script: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): WatchedProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: options.cwd ?? PACKAGE_ROOT,
    env: cleanEnv(options.env),
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let done = false;
  const exited = new Promise<CliResult>((resolve) => {
    child.on('close', (status, signal) => {
      done = true;
      notify();
      resolve({ status, signal, stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForLine(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = stdout
            .split('\n')
            .slice(0, -1)
            .find((l) => pattern.test(l));
          if (line !== undefined) finish(() => resolve(line));
          else if (done)
            finish(() => reject(new Error(`exited without printing ${pattern}; stderr: ${stderr}`)));
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new Error(`no line ${pattern} in ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`),
              ),
            ),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Starts `keel <args>` from source as a child process. */
export function spawnCli(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): WatchedProcess {
  return spawnScript(CLI_PATH, args, options);
}

/** Runs `keel <args>` to completion (killed after `timeoutMs`). */
export async function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const watched = spawnCli(args, options);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const timer = setTimeout(() => watched.child.kill('SIGKILL'), timeoutMs);
  const result = await watched.exited;
  clearTimeout(timer);
  if (result.signal === 'SIGKILL')
    throw new Error(`keel ${args.join(' ')} did not exit within ${timeoutMs} ms`);
  return result;
}
