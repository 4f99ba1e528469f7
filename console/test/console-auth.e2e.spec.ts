import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalog, PatientEvents } from '../../examples/catalog.ts';
import { configSchema } from '../../src/config/config-schema.ts';
import { createNode, type KeelNode } from '../../src/server/node.ts';
import { launchChromium, saveScreenshot, seriousViolations } from './browser.ts';
import { buildConsole } from './seeded-node.ts';

// The console in real Chromium against a node that requires an identity: sign-in with an API key, who is
// signed in, sign-out, the audit page with its filters and the chain's verification, under the node's CSP.
describe('web console with authentication required', () => {
  let dir: string;
  let node: KeelNode;
  let browser: Browser;
  let page: Page;
  const keys: Record<'admin' | 'auditor' | 'consumer', string> = { admin: '', auditor: '', consumer: '' };
  const cspViolations: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-console-auth-'));
    const consoleDir = join(dir, 'console');
    await buildConsole(consoleDir);
    node = createNode({
      config: configSchema.parse({
        port: 0,
        logLevel: 'silent',
        sync: 'normal',
        auth: 'required',
        dataDir: join(dir, 'data'),
      }),
      catalog,
      logger: pino({ level: 'silent' }),
      checkAnswers: true,
      consoleDir,
    });
    await node.start();
    for (const role of ['admin', 'auditor', 'consumer'] as const) {
      keys[role] = node.keys.create({ name: `${role}-console`, roles: [role] }).key;
    }
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await node?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const check = async (name: string) => {
    await saveScreenshot(page, name);
    expect(await seriousViolations(page)).toEqual([]);
  };
  const signIn = async (key: string) => {
    await page.getByLabel('API key or access token').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 10_000, interval: 100 });

  it('asks for a key, refuses a wrong one, signs in and shows who, keeps it on reload, signs out', async () => {
    const response = await page.goto(`${node.url}/`);
    expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await check('sign-in');

    await signIn('keel_00000000_not-a-real-key-at-all-aaaaaaaaaaaaaaaaaaa');
    await page.getByRole('alert').filter({ hasText: 'Not signed in' }).waitFor();

    await signIn(keys.admin);
    await page.getByText('Signed in as admin-console').waitFor();
    // The figures stream carries the credential too (server-sent events read with fetch).
    await page.locator('[data-figures-stream="open"]').waitFor();
    // The key is kept for the tab's session only, never in localStorage.
    expect(await page.evaluate<string | null>("localStorage.getItem('keel.credential')")).toBeNull();
    await page.reload();
    await page.getByText('Signed in as admin-console').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  it('lists audit records with filters in the URL and verifies the chain', async () => {
    const call = (url: string, key: string, method = 'GET') =>
      fetch(`${node.url}${url}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'keel-audit-reason': 'console-test' },
      });
    expect((await call(`/v1/topics/${PatientEvents.name}/messages`, keys.consumer)).status).toBe(200);
    expect((await call('/v1/groups/g-console/reset', keys.consumer, 'POST')).status).toBe(403);

    await page.goto(`${node.url}/audit`);
    await signIn(keys.auditor);
    await page.getByText('Signed in as auditor-console').waitFor();
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    await eventually(() => page.locator('[data-audit-records] tbody tr').count()).toBeGreaterThanOrEqual(2);
    await check('audit');

    await page.getByLabel('Outcome').selectOption('refused');
    await page.getByLabel('Kind').selectOption('action');
    await page.getByRole('button', { name: 'Filter' }).click();
    await eventually(async () => page.url()).toMatch(/\/audit\?kind=action&outcome=refused/);
    await eventually(() => page.locator('[data-audit-records] tbody tr').count()).toBe(1);
    expect(await page.locator('[data-audit-records] tbody tr').innerText()).toContain(
      'POST /v1/groups/:group/reset',
    );

    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.locator('[data-chain="verified"]').waitFor();
    expect(await page.getByRole('status').innerText()).toMatch(
      /Verified: \d+ records, every hash and link holds\. Audit topic: \d+ records hold/,
    );
    await check('audit-verified');
    expect(cspViolations).toEqual([]);
  });
});
