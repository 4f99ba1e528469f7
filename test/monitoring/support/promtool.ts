import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Folder of the Prometheus rule files and their promtool unit tests. */
export const PROMETHEUS_DIR = resolve(import.meta.dirname, '../../../infra/monitoring/prometheus');

/** The rule files (`*.rules.yml`), absolute paths. */
export function ruleFiles(): string[] {
  return yamlFiles(PROMETHEUS_DIR).filter((f) => f.endsWith('.rules.yml'));
}

/** The promtool unit-test files (`tests/*.yml`), absolute paths. */
export function ruleTestFiles(): string[] {
  return yamlFiles(join(PROMETHEUS_DIR, 'tests'));
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}

/** What one promtool run printed and how it ended. */
export interface PromtoolRun {
  status: number | null;
  output: string;
}

/** Runs the real `promtool` (Debian package `prometheus`, installed by the test setup), from the rules folder, with `input` on stdin. */
export function promtool(args: string[], input?: string): PromtoolRun {
  const run = spawnSync('promtool', args, {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: PROMETHEUS_DIR,
    ...(input === undefined ? {} : { input }),
  });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
