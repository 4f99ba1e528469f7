import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allRecords,
  patientCatalog,
  seedDeadLetters,
  seedPatients,
} from '../../server/test-support/api-fixture.ts';
import { startTempNode, type TempNode } from '../../server/test-support/temp-node.ts';
import { runCli, spawnCli } from '../test-support/run-cli.ts';

const TOPIC = 'cli.patients';
let temp: TempNode;
let dir: string;
const keel = (args: string[], url = temp.node.url!) =>
  runCli(args, { env: { KEEL_URL: url }, timeoutMs: 30_000 });
const patient = (id: string, extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id,
  source: 'urn:keel:cli-test',
  type: 'healthcare.patient.created',
  datacontenttype: 'application/json',
  data: { patientId: id, firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1815-12-10' },
  ...extra,
});
const ndjson = (events: unknown[]) => `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;

beforeAll(async () => {
  temp = await startTempNode({ catalog: patientCatalog(TOPIC) });
  dir = mkdtempSync(join(tmpdir(), 'keel-cli-remote-'));
});
afterAll(async () => {
  await temp.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('keel publish', () => {
  it('publishes NDJSON events from a file and prints a receipt per event', async () => {
    const file = join(dir, 'three.ndjson');
    writeFileSync(file, ndjson([patient('cli-1'), patient('cli-2'), patient('cli-3')]));
    const result = await keel(['publish', file, '--output', 'json']);
    expect(result.status).toBe(0);
    const receipts = JSON.parse(result.stdout) as Array<{ id: string; topic: string }>;
    expect(receipts.map((r) => [r.id, r.topic])).toEqual([
      ['cli-1', TOPIC],
      ['cli-2', TOPIC],
      ['cli-3', TOPIC],
    ]);
    expect((await allRecords(temp.node, TOPIC)).length).toBe(3);
  });

  it('reads stdin, and prints a table for people', async () => {
    const child = spawnCli(['publish'], { env: { KEEL_URL: temp.node.url! } });
    child.child.stdin.end(ndjson([patient('cli-4')]));
    const result = await child.exited;
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^ID\s+TOPIC\s+PARTITION\s+OFFSET/);
    expect(result.stdout).toContain('cli-4');
  });

  it('refuses a line that is not JSON, naming it, and sends nothing (exit 2)', async () => {
    const before = await temp.totalRecords();
    const file = join(dir, 'broken.ndjson');
    writeFileSync(file, `${JSON.stringify(patient('cli-5'))}\n{"specversion":\n`);
    const result = await keel(['publish', file]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('line 2: not JSON');
    expect(await temp.totalRecords()).toBe(before);
  });

  it("passes on the node's refusal naming the field, with nothing written (exit 4)", async () => {
    const before = await temp.totalRecords();
    const file = join(dir, 'invalid.ndjson');
    const bad = patient('cli-6');
    (bad.data as Record<string, unknown>).dateOfBirth = 'yesterday';
    writeFileSync(file, ndjson([patient('cli-7'), bad]));
    const result = await keel(['publish', file]);
    expect(result.status).toBe(4);
    expect(result.stderr).toMatch(/400.*\[1\]\.data\.dateOfBirth/);
    expect(await temp.totalRecords()).toBe(before);
  });
});

describe('keel topics, tail, export and import', () => {
  it('lists and describes topics; an unknown topic exits 3', async () => {
    const list = await keel(['topics', 'list', '-o', 'json']);
    expect(list.status).toBe(0);
    const topic = (JSON.parse(list.stdout) as Array<{ name: string; messages: string }>).find(
      (t) => t.name === TOPIC,
    );
    expect(topic?.messages).toBe(String((await allRecords(temp.node, TOPIC)).length));
    const described = await keel(['topics', 'describe', TOPIC]);
    expect(described.stdout).toMatch(new RegExp(`topic:\\s+${TOPIC}`));
    expect(described.stdout).toMatch(/PARTITION\s+EARLIEST\s+LATEST/);
    const missing = await keel(['topics', 'describe', 'no.such.topic']);
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain('topic "no.such.topic" does not exist');
  });

  it('tails a topic from the earliest offset with filters, stopping after --limit', async () => {
    const result = await keel([
      'tail',
      TOPIC,
      '--from',
      'earliest',
      '--key',
      'cli-2',
      '--limit',
      '1',
      '-o',
      'json',
    ]);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect((JSON.parse(lines[0]!) as { event: { id: string } }).event.id).toBe('cli-2');
  });

  it('follows new events live', async () => {
    const tail = spawnCli(['tail', TOPIC, '--limit', '1'], { env: { KEEL_URL: temp.node.url! } });
    const killer = setTimeout(() => tail.child.kill('SIGKILL'), 25_000);
    // The tail says so once the node has answered; then a new event shows as one line.
    while (!tail.stderr().includes(`following ${TOPIC}`)) {
      if (tail.child.exitCode !== null) throw new Error(`keel tail exited: ${tail.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await seedPatients(temp.node, 1);
    const result = await tail.exited;
    clearTimeout(killer);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^\d+:\d+\s+\S+\s+healthcare\.patient\.created\s+p-0/);
  });

  it('exports NDJSON to a file that another node imports whole; CSV to stdout', async () => {
    const file = join(dir, 'export.ndjson');
    const exported = await keel(['export', TOPIC, '--out', file]);
    expect(exported.status).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength((await allRecords(temp.node, TOPIC)).length);
    const csv = await keel(['export', TOPIC, '--format', 'csv', '--type', 'healthcare.patient.created']);
    expect(csv.stdout.split(/\r?\n/)[0]).toBe(
      'topic,partition,offset,id,type,source,subject,time,correlationid,tenantid,data',
    );

    const other = await startTempNode({ catalog: patientCatalog(TOPIC) });
    try {
      const imported = await keel(['import', TOPIC, file, '-o', 'json'], other.node.url!);
      expect(imported.status).toBe(0);
      const ids = (await allRecords(other.node, TOPIC)).map((r) => r.headers.ce_id).sort();
      expect(ids).toEqual(lines.map((line) => (JSON.parse(line) as { id: string }).id).sort());
    } finally {
      await other.close();
    }
  });
});

describe('keel groups and dlq', () => {
  const group = 'cli-readers';

  beforeAll(async () => {
    // A group that committed the first record of every partition, then left.
    const consumer = temp.node.transport.consumer({ group, topics: [TOPIC], startFrom: 'earliest' });
    await consumer.poll(2_000);
    for (const { partition, earliest, latest } of await temp.node.transport.offsets(TOPIC)) {
      if (latest > earliest) await consumer.commit([{ topic: TOPIC, partition, offset: earliest + 1n }]);
    }
    await consumer.close();
    const records = await allRecords(temp.node, TOPIC);
    await seedDeadLetters(temp.node, group, records.slice(0, 3), 'ValidationError', 'onPatient');
    await seedDeadLetters(temp.node, group, records.slice(3, 4), 'TimeoutError', 'onPatient');
  });

  it('lists groups and shows lag per partition', async () => {
    const list = await keel(['groups', 'list']);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${group}\\s+\\S+\\s+0\\s+\\d+`));
    const lag = await keel(['groups', 'lag', group, '-o', 'json']);
    expect((JSON.parse(lag.stdout) as { group: string }).group).toBe(group);
  });

  it('resets offsets with a dry run first, then for real; a bad target is a usage error', async () => {
    const dry = await keel([
      'groups',
      'reset',
      group,
      '--topic',
      TOPIC,
      '--to',
      'earliest',
      '--dry-run',
      '-o',
      'json',
    ]);
    expect(dry.status).toBe(0);
    const plan = JSON.parse(dry.stdout) as { dryRun: boolean; applied: boolean; changes: unknown[] };
    expect(plan).toMatchObject({ dryRun: true, applied: false });
    expect(plan.changes.length).toBeGreaterThan(0);
    const real = await keel(['groups', 'reset', group, '--topic', TOPIC, '--to', 'earliest']);
    expect(real.status).toBe(0);
    expect(real.stdout).toContain('offsets moved');
    const bad = await keel(['groups', 'reset', group, '--topic', TOPIC, '--to', 'soon']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--to soon');
  });

  it('lists, summarises, retries and discards dead letters; bulk retry runs as a job to the end', async () => {
    const summary = await keel(['dlq', 'summary', group, '-o', 'json']);
    expect((JSON.parse(summary.stdout) as { total: number }).total).toBe(4);
    const list = await keel(['dlq', 'list', group, '--error-type', 'ValidationError', '-o', 'json']);
    const entries = JSON.parse(list.stdout) as Array<{ id: string }>;
    expect(entries).toHaveLength(3);

    const discarded = await keel([
      'dlq',
      'discard',
      group,
      entries[0]!.id,
      '--reason',
      'test data',
      '--actor',
      'ops',
    ]);
    expect(discarded.status).toBe(0);
    expect(discarded.stdout).toContain(`discarded ${entries[0]!.id}`);
    const noReason = await keel(['dlq', 'discard', group, entries[1]!.id]);
    expect(noReason.status).toBe(2);
    const retried = await keel(['dlq', 'retry', group, entries[1]!.id]);
    expect(retried.stdout).toContain(`retried ${entries[1]!.id}`);

    const stale = await keel(['dlq', 'retry', group, '--all', '--expected-count', '5']);
    expect(stale.status).toBe(4);
    const bulk = await keel(['dlq', 'retry', group, '--all', '--expected-count', '2']);
    expect(bulk.status).toBe(0);
    expect(bulk.stdout).toMatch(/job \S+ succeeded: 2 retried/);
    expect(bulk.stderr).toMatch(/100% 2\/2/);
    const pending = await keel(['dlq', 'list', group, '--status', 'pending', '-o', 'json']);
    expect(JSON.parse(pending.stdout)).toEqual([]);
  });
});

describe('keel against no node', () => {
  it('says where it looked and how to fix it (exit 1)', async () => {
    const result = await runCli(['topics', 'list', '--url', 'http://127.0.0.1:9']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/no node answers at http:\/\/127\.0\.0\.1:9 .*keel start/);
  });
});
