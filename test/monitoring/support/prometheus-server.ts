import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROMETHEUS_DIR } from './promtool.ts';

/** A real Prometheus (Debian's `prometheus` binary) on a free port with a temporary config and data folder. */
export interface PrometheusServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Runs an instant query; returns the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** The alerts Prometheus holds now (pending and firing). */
  alerts(): Promise<{ labels: Record<string, string>; state: string }[]>;
  /** SIGTERM, then SIGKILL after 5 s; deletes the folder. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * A copy of a rule file of infra/monitoring/prometheus with one alert's `for:` replaced, so a test need not wait
 * out the production hold time; throws if the alert or its `for:` is not found.
 */
export function ruleFileWithFor(file: string, alert: string, hold: string): string {
  const text = readFileSync(join(PROMETHEUS_DIR, file), 'utf8');
  const pattern = new RegExp(`(- alert: ${alert}\\n(?:\\s+expr: .*\\n))(\\s+)for: \\S+`);
  if (!pattern.test(text)) throw new Error(`${file}: no alert ${alert} with a one-line expr and a for:`);
  return text.replace(pattern, `$1$2for: ${hold}`);
}

/** Starts Prometheus scraping `targets` (host:port) every second, evaluating `rules` (file text) every second. */
export async function startPrometheus(options: {
  targets: string[];
  rules: string;
}): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-prometheus-'));
  writeFileSync(join(dir, 'rules.yml'), options.rules);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.yml')],
      scrape_configs: [{ job_name: 'keel', static_configs: [{ targets: options.targets }] }],
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output = (output + d).slice(-20_000);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const api = async (path: string) => {
    const body = (await (await fetch(`${url}${path}`)).json()) as {
      status: string;
      data: unknown;
      error?: string;
    };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error}`);
    return body.data;
  };
  try {
    await waitReady(url, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    stop,
    async query(expr) {
      const data = (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)) as {
        result: { metric: Record<string, string>; value: [number, string] }[];
      };
      return data.result;
    },
    async alerts() {
      return (
        (await api('/api/v1/alerts')) as { alerts: { labels: Record<string, string>; state: string }[] }
      ).alerts;
    },
  };
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${output()}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`prometheus was not ready at ${url} within 20 s:\n${output()}`);
}
