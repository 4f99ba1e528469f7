import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM } from '../../test/setup/chromium.ts';

/** Where screenshots of each page are saved (git ignores it; CI can keep it as an artifact). */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/console/', import.meta.url));

const axeSource = createRequire(import.meta.url)('axe-core').source as string;

/** Starts headless Chromium from the Debian package (no browser download). */
export function launchChromium(): Promise<Browser> {
  // Running as root (CI) needs --no-sandbox; the browser only ever loads the test's own node.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Saves a screenshot of the page as `<name>.png` under ARTIFACTS. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** An accessibility rule axe-core found broken, with the elements that break it. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core on the page and returns its serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated, not added as a <script>: the node's Content-Security-Policy refuses inline scripts it did not serve.
  await page.evaluate(axeSource);
  // Runs in the page (a string, so this file needs no DOM types).
  const found = await page.evaluate<RawViolation[]>(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => String(n.target)) })))`,
  );
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

type RawViolation = AxeViolation;
