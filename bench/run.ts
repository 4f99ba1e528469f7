// `npm run bench`: runs the benchmarks, prints a table and writes bench/results/<timestamp>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { analyticsBenchmarks } from './analytics.bench.ts';
import { apiBenchmarks } from './api.bench.ts';
import { compressionBenchmarks } from './compression.bench.ts';
import { consoleBenchmarks } from './console.bench.ts';
import { deliveryBenchmarks } from './delivery.bench.ts';
import { batchedPublish, concurrentSinglePublish, endToEnd } from './embedded.bench.ts';
import { encryptionBenchmarks } from './encryption.bench.ts';
import { exportBenchmarks } from './exports.bench.ts';
import { fhirIngestBenchmarks } from './fhir-ingest.bench.ts';
import { kafkaBenchmarks } from './kafka.bench.ts';
import { kafkaLeaderChangeBenchmarks } from './kafka-leader-change.bench.ts';
import { kafkaTransactionBenchmarks } from './kafka-transactions.bench.ts';
import { orderedRetries } from './ordered-retries.bench.ts';
import { registryBenchmarks } from './registry.bench.ts';
import { requestReply } from './request-reply.bench.ts';
import { handlerThroughput } from './router.bench.ts';
import { searchBenchmarks } from './search.bench.ts';
import { securityBenchmarks } from './security.bench.ts';
import type { BenchResult } from './stats.ts';
import { sqliteStoreBenchmarks, storeBenchmarks } from './store.bench.ts';
import { tenantReadBenchmarks } from './tenant-reads.bench.ts';
import { workflowBenchmarks } from './workflows.bench.ts';

const only = process.argv[2];
const suites: Array<[string, () => Promise<BenchResult[]>]> = [
  ['batched-full', () => batchedPublish('full')],
  ['batched-normal', () => batchedPublish('normal')],
  ['single-full', () => concurrentSinglePublish('full')],
  ['single-normal', () => concurrentSinglePublish('normal')],
  ['e2e-full', () => endToEnd('full')],
  ['request-reply', () => requestReply()],
  ['router', () => handlerThroughput()],
  ['ordered-retries', () => orderedRetries('embedded')],
  ['ordered-retries-kafka', () => orderedRetries('kafka')],
  ['store', async () => [...(await storeBenchmarks()), ...(await sqliteStoreBenchmarks())]],
  ['workflows-sqlite', () => workflowBenchmarks('sqlite')],
  ['workflows-postgres', () => workflowBenchmarks('postgres')],
  ['api', () => apiBenchmarks()],
  ['search', () => searchBenchmarks()],
  ['kafka', () => kafkaBenchmarks()],
  ['kafka-transactions', () => kafkaTransactionBenchmarks()],
  ['kafka-leader-change', () => kafkaLeaderChangeBenchmarks()],
  ['console', () => consoleBenchmarks()],
  ['registry', () => registryBenchmarks()],
  ['encryption', () => encryptionBenchmarks()],
  ['delivery', () => deliveryBenchmarks()],
  ['security', () => securityBenchmarks()],
  ['tenant-reads', () => tenantReadBenchmarks()],
  ['compression', () => compressionBenchmarks()],
  ['analytics', () => analyticsBenchmarks()],
  ['fhir-ingest', () => fhirIngestBenchmarks()],
  ['exports', () => exportBenchmarks()],
];

const results: BenchResult[] = [];
for (const [id, suite] of suites) {
  if (only && !id.startsWith(only)) continue;
  process.stderr.write(`running ${id}...\n`);
  results.push(...(await suite()));
}

const verdict = (r: BenchResult) => {
  if (r.target === undefined) return '';
  const met = r.better === 'lower' ? r.value <= r.target : r.value >= r.target;
  const factor = r.better === 'lower' ? r.value / r.target : r.target / r.value;
  return met ? 'met' : `missed (${factor.toFixed(1)}× off)`;
};
const rows = results.map((r) => [
  r.name,
  `${r.value.toLocaleString('en-US')} ${r.unit}`,
  r.target === undefined
    ? ''
    : `${r.better === 'lower' ? '≤' : '≥'} ${r.target.toLocaleString('en-US')} ${r.unit}`,
  verdict(r),
]);
const header = ['benchmark', 'result', 'target', 'verdict'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows) console.log(line(row));
for (const r of results) if (r.note) console.log(`- ${r.name}: ${r.note}`);

const machine = {
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  platform: process.platform,
};
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify({ machine, results }, null, 2)}\n`);
console.log(`\nresults written to ${file}`);
