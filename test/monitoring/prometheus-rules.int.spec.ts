import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { promtool, ruleFiles, ruleTestFiles } from './support/promtool.ts';

describe('Prometheus alert rules (real promtool)', () => {
  it('are valid rule files', () => {
    const run = promtool(['check', 'rules', ...ruleFiles()]);
    expect(run.output).not.toContain('FAILED');
    expect(run.status, run.output).toBe(0);
  });

  it('are what the laptop Prometheus config (docker-compose.yml) loads, and that config is valid', () => {
    const run = promtool(['check', 'config', 'prometheus.yml']);
    expect(run.status, run.output).toBe(0);
    expect(run.output.match(/SUCCESS: \d+ rules found/g)).toHaveLength(ruleFiles().length);
  });

  it('pass their unit tests: every alert firing and not firing', () => {
    const run = promtool(['test', 'rules', ...ruleTestFiles()]);
    expect(run.status, run.output).toBe(0);
    expect(run.output.match(/SUCCESS/g)).toHaveLength(ruleTestFiles().length);
  });

  // promtool compares the full list of firing alerts at each eval time, so series beside the firing one are
  // proven silent there.
  it('test every alert they declare, and link each to a runbook that exists', () => {
    const tests = ruleTestFiles()
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const alerts = ruleFiles().flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]),
    );
    expect(alerts.length).toBeGreaterThanOrEqual(13);
    for (const name of alerts) {
      expect(tests, `alert ${name} has no promtool test`).toContain(`alertname: ${name}\n`);
      const runbook = new URL(`../../docs/runbooks/${name}.md`, import.meta.url);
      expect(readFileSync(runbook, 'utf8')).toContain(`# ${name}`);
    }
  });

  it('refuses a rule file with a broken expression, naming where', () => {
    const broken =
      'groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: sum by (group (x)\n';
    const dir = mkdtempSync(join(tmpdir(), 'keel-rules-'));
    const file = join(dir, 'broken.rules.yml');
    writeFileSync(file, broken);
    const run = promtool(['check', 'rules', file]);
    rmSync(dir, { recursive: true, force: true });
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/broken\.rules\.yml/);
    expect(run.output).toMatch(/parse error/);
  });
});
