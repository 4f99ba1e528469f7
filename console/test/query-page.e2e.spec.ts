import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from '../../src/server/test-support/temp-node.ts';
import { testEvents } from '../../src/store/contract/contract-helpers.ts';
import { launchChromium, saveScreenshot, seriousViolations } from './browser.ts';
import { buildConsole } from './seeded-node.ts';

// The query page in real Chromium against a node whose store holds 7 admissions and 3 discharges.
describe('web console: query page', () => {
  let dir: string;
  let temp: TempNode;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-query-console-'));
    await buildConsole(join(dir, 'console'));
    [temp, browser] = await Promise.all([
      startTempNode({ consoleDir: join(dir, 'console') }),
      launchChromium(),
    ]);
    await temp.node.store.store.append('ward-a', testEvents(7, 'test.patient.admitted'));
    await temp.node.store.store.append('ward-a', testEvents(3, 'test.patient.discharged'));
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    page.setDefaultTimeout(10_000);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await temp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const text = (selector: string) => page.locator(selector).first().innerText();
  const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 10_000, interval: 100 });

  it('runs the example query, shows its rows, and keeps the query in the URL', async () => {
    await page.goto(`${temp.node.url}/query`);
    await page.getByRole('button', { name: 'Run' }).click();
    await eventually(() => text('[data-query-rows]')).toBe('2');
    expect(new URL(page.url()).searchParams.get('sql')).toMatch(/FROM events/);
    const cells = await page.locator('[data-query-result] tbody tr').allInnerTexts();
    expect(cells[0]).toMatch(/test\.patient\.admitted\s+7/);
    expect(cells[1]).toMatch(/test\.patient\.discharged\s+3/);
    expect(await page.locator('[data-query-result] th').allInnerTexts()).toEqual([
      'type',
      'events',
      'latest',
    ]);
    await saveScreenshot(page, 'query');
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('says why a write is refused and where a query does not parse', async () => {
    await page.goto(`${temp.node.url}/query?${new URLSearchParams({ sql: 'DELETE FROM events' })}`);
    await eventually(() => text('[role="alert"]')).toContain('only a SELECT may run');
    await page.locator('textarea[name="sql"]').fill('SELECT *\nFORM events');
    await page.locator('textarea[name="sql"]').press('Control+Enter');
    await eventually(() => text('[role="alert"]')).toContain('line 2, column 6');
    await saveScreenshot(page, 'query-refused');
    expect(await seriousViolations(page)).toEqual([]);
    const count = await fetch(`${temp.node.url}/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT count(*) FROM events' }),
    }).then((response) => response.json() as Promise<{ rows: unknown[][] }>);
    expect(count.rows).toEqual([['10']]);
  });
});
