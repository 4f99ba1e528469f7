import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { launchChromium } from '../console/test/browser.ts';
import { buildConsole, startSeededNode } from '../console/test/seeded-node.ts';
import { type BenchResult, percentile } from './stats.ts';

/** Cold loads of the overview measured (each in a fresh browser context: nothing cached). */
const LOADS = 15;

/**
 * The console's first load: the bytes of what `index.html` loads (gzipped, as a server or proxy that
 * compresses would send them), and the time from navigation to the overview's figures on screen in
 * headless Chromium, against a seeded node on this machine.
 */
export async function consoleBenchmarks(): Promise<BenchResult[]> {
  return [...(await firstLoadBytes()), ...(await overviewPaint())];
}

async function firstLoadBytes(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-console-bench-'));
  try {
    await buildConsole(dir);
    const index = readFileSync(join(dir, 'index.html'));
    const assets = [...index.toString('utf8').matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map(
      (m) => m[1]!,
    );
    const files = [index, ...assets.map((asset) => readFileSync(join(dir, asset)))];
    const raw = files.reduce((sum, bytes) => sum + bytes.length, 0);
    const gzipped = files.reduce((sum, bytes) => sum + gzipSync(bytes, { level: 9 }).length, 0);
    return [
      {
        name: 'console: first-load bundle, gzipped (index.html + its JS and CSS)',
        value: Number((gzipped / 1024).toFixed(1)),
        unit: 'kB',
        target: 300,
        better: 'lower',
        note: `${files.length} files, ${(raw / 1024).toFixed(1)} kB before compression`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function overviewPaint(): Promise<BenchResult[]> {
  const seeded = await startSeededNode();
  const browser = await launchChromium();
  const figures: number[] = [];
  const contentful: number[] = [];
  try {
    for (let i = 0; i < LOADS; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(seeded.url, { waitUntil: 'commit' });
      // Meaningful: the overview's figures are on screen (they need the node's metrics, groups and DLQs).
      await page.waitForFunction(
        `document.querySelector('[data-stat="Total lag"]')?.textContent.trim() === '30'`,
      );
      const [shown, fcp] = await page.evaluate<[number, number]>(
        `[performance.now(), performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN]`,
      );
      figures.push(shown);
      contentful.push(fcp);
      await context.close();
    }
  } finally {
    await browser.close();
    await seeded.close();
  }
  const round = (ms: number) => Number(ms.toFixed(1));
  return [
    {
      name: 'console: overview figures on screen after a cold navigation (Chromium), p50',
      value: round(percentile(figures, 50)),
      unit: 'ms',
      note: `p95 ${round(percentile(figures, 95))} ms over ${LOADS} cold loads; first contentful paint p50 ${round(percentile(contentful, 50))} ms`,
    },
  ];
}
