import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatientCreated } from '../../examples/catalog.ts';
import {
  startWebhookEndpoint,
  type WebhookEndpoint,
} from '../../src/server/test-support/webhook-endpoint.ts';
import { launchChromium, saveScreenshot, seriousViolations } from './browser.ts';
import { type SeededNode, startSeededNode } from './seeded-node.ts';

// The subscriptions pages in real Chromium against a node on the embedded transport, delivering to a real
// HTTP endpoint in the test. The tests run in order: later ones see what earlier ones did.
describe('web console: push subscriptions', () => {
  let seeded: SeededNode;
  let browser: Browser;
  let page: Page;
  let endpoint: WebhookEndpoint;

  beforeAll(async () => {
    [seeded, browser, endpoint] = await Promise.all([
      startSeededNode(),
      launchChromium(),
      startWebhookEndpoint(),
    ]);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await seeded?.close();
    await endpoint?.close();
  });

  const open = (path: string) => page.goto(`${seeded.url}${path}`);
  /** Screenshot, then axe-core: no serious or critical violation. */
  const check = async (name: string) => {
    await saveScreenshot(page, name);
    expect(await seriousViolations(page)).toEqual([]);
  };
  const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 15_000, interval: 200 });
  const text = (selector: string) => page.locator(selector).first().innerText();
  const publish = async (count: number, prefix: string) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const receipt = await seeded.node.publisher.publish(PatientCreated, {
        patientId: `${prefix}-${i}`,
        firstName: 'A',
        lastName: 'B',
        dateOfBirth: '2000-01-01',
      });
      ids.push(receipt.id);
    }
    return ids;
  };
  /** A time as a `datetime-local` value in the browser's zone (the test's, on this machine). */
  const local = (ms: number) => {
    const d = new Date(ms);
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  };

  it('creates a subscription from the form; a refused field is named; the list shows its state', async () => {
    await open('/subscriptions');
    await eventually(() => text('.empty strong')).toBe('No subscriptions yet');
    await check('subscriptions-empty');

    await page.getByLabel('Name').fill('billing');
    await page.getByLabel('Endpoint URL').fill('ftp://example.com/hook');
    await page.getByRole('button', { name: 'Create' }).click();
    await eventually(() => text('[role="alert"]')).toContain('body.url');
    expect(await text('[role="alert"]')).toContain('expected an http or https URL');

    await page.getByLabel('Endpoint URL').fill(`${endpoint.url}/billing`);
    await page.getByLabel('Event types').fill(PatientCreated.type);
    await page.getByLabel('Requests per second').fill('500');
    await page.getByRole('button', { name: 'Create' }).click();
    await eventually(() => text('[data-new-secret]')).toMatch(/whsec_[A-Za-z0-9+/]{43}=/);
    const row = page.locator('[data-subscription="billing"]');
    await eventually(() => row.innerText()).toContain('active');
    expect(await row.innerText()).toContain(`${endpoint.url}/billing`);
    await check('subscriptions');
  });

  it('shows the attempts of delivered events with status, latency and answer; pauses and resumes', async () => {
    endpoint.answer('/billing', { status: 200, body: 'thanks' });
    await publish(3, 'p-billing');
    await endpoint.waitFor('/billing', 3, 15_000);
    await open('/subscriptions/billing');
    await eventually(() => page.locator('[data-attempt="delivered"]').count()).toBe(3);
    expect(await text('[data-attempt="delivered"] [data-attempt-status]')).toBe('200');
    expect(await text('[data-attempt="delivered"] [data-attempt-answer]')).toBe('thanks');
    expect(await text('[data-attempt="delivered"]')).toMatch(/\d+ ms/);
    expect(await text('[data-policy]')).toContain('at most 500/s');
    await check('subscription');

    await page.getByLabel('Reason to pause').fill('their deploy');
    await page.getByRole('button', { name: 'Pause' }).click();
    await eventually(() => text('[data-subscription-status]')).toBe('disabled');
    expect(await text('[data-disabled-reason]')).toContain('their deploy');
    await publish(2, 'p-paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await eventually(() => text('[data-subscription-status]')).toBe('active');
    // Resumed where it stopped: what was appended while paused arrives.
    await endpoint.waitFor('/billing', 5, 15_000);
  });

  it("lists the subscription's dead letters; one retried is delivered, one discarded with a reason", async () => {
    endpoint.answer('/refusing', { status: 500, body: 'nope' });
    const created = await fetch(`${seeded.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'refusing',
        url: `${endpoint.url}/refusing`,
        secret: `whsec_${Buffer.alloc(32, 9).toString('base64')}`,
        filter: { types: [PatientCreated.type], condition: 'data.patientId.startsWith("p-refused")' },
        policy: { maxAttempts: 1, initialDelayMs: 0 },
      }),
    });
    expect(created.status).toBe(201);
    await publish(2, 'p-refused');
    await open('/subscriptions/refusing');
    await eventually(() => page.locator('[data-dead-letter]').count()).toBe(2);
    expect(await text('[data-attempt="failed"] [data-attempt-status]')).toBe('500');
    expect(await text('[data-attempt="failed"] [data-attempt-answer]')).toBe('nope');
    await check('subscription-dead-letters');

    endpoint.answer('/refusing', { status: 204 });
    const [first, second] = await page
      .locator('[data-dead-letter]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-dead-letter') as string));
    await page.getByRole('button', { name: `Retry ${first}` }).click();
    await eventually(() => page.locator('[data-attempt="delivered"]').count()).toBe(1);
    await page.getByLabel('Reason to discard').fill('test data');
    await page.getByRole('button', { name: `Discard ${second}` }).click();
    await eventually(() => page.locator('[data-dead-letter]').count()).toBe(0);
    const discarded = await fetch(
      `${seeded.url}/v1/groups/keel.delivery.refusing/dead-letters/${encodeURIComponent(second as string)}`,
    ).then((r) => r.json() as Promise<{ status: string; actions: unknown[] }>);
    expect(discarded.status).toBe('discarded');
    expect(discarded.actions).toContainEqual(expect.objectContaining({ reason: 'test data', by: 'console' }));
  });

  it('re-delivers a range as a job with progress, then deletes the subscription', async () => {
    // The form takes whole seconds: start the range on the next one, so no earlier event falls in it.
    const before = Math.ceil(Date.now() / 1_000) * 1_000;
    await new Promise((resolve) => setTimeout(resolve, before - Date.now() + 10));
    await publish(4, 'p-replayed');
    // billing so far: 3 delivered, 2 appended while paused, 2 of the refusing subscription's (also its type).
    await endpoint.waitFor('/billing', 11, 15_000);
    const after = Date.now() + 2_000;
    await open('/subscriptions/billing');
    await page.getByLabel('Appended from').fill(local(before));
    await page.getByLabel('Until (before)').fill(local(after));
    await page.getByRole('button', { name: 'Re-deliver' }).click();
    await page.locator('[data-job-status="succeeded"]').waitFor({ timeout: 15_000 });
    expect(await text('[data-job-status]')).toContain('4 delivered');
    await endpoint.waitFor('/billing', 15, 15_000);
    await eventually(() => page.locator('[data-attempt="delivered"]', { hasText: 'replay' }).count()).toBe(4);

    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('button', { name: 'Delete billing and its attempts' }).click();
    await page.waitForURL(/\/subscriptions$/);
    await eventually(() => page.locator('[data-subscription]').count()).toBe(1);
    expect((await fetch(`${seeded.url}/v1/subscriptions/billing`)).status).toBe(404);
  });
});
