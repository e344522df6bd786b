import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemo, type Demo } from '../src/demo.js';
import { waitUntilWarm } from './helpers.js';

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it). Missing = a failed test, never a skip. */
const CHROMIUM = '/usr/bin/chromium';
const artifacts = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

let demo: Demo;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium); .ci/run does`);
  }
  [demo, browser] = await Promise.all([
    startDemo({ port: 0, rate: 8 }),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }),
  ]);
  await waitUntilWarm(demo);
});

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

async function chartPixels(page: Page, selector: string): Promise<string> {
  return page.locator(selector).evaluate((canvas) => (canvas as unknown as { toDataURL(): string }).toDataURL());
}

it('the dashboard loads, its charts move, and a fault button changes the shown state', async () => {
  const page = await browser!.newPage({ viewport: { width: 1440, height: 1000 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(demo.url);

  await page.waitForFunction('Number(document.body.dataset.updates) >= 4', undefined, { timeout: 10_000 });
  expect(await page.locator('section.pool').count()).toBe(5);
  expect(await page.locator('section.pool h2').allTextContents()).toEqual(['pg', 'http2', 'grpc', 'ssh', 'tcp']);
  expect(await page.locator('.node').count()).toBe(8);
  expect(await page.locator('#conn').textContent()).toBe('live');
  expect(await page.locator('[data-pool=pg] [data-partition=api]').textContent()).toMatch(/partition api: \d+ \/ 4 active/);

  // Charts are redrawn as snapshots arrive.
  const chart = '[data-pool=pg] canvas[data-chart=connections]';
  const before = await chartPixels(page, chart);
  const updates = Number(await page.locator('body').getAttribute('data-updates'));
  await page.waitForFunction(`Number(document.body.dataset.updates) >= ${updates + 4}`, undefined, { timeout: 5_000 });
  expect(await chartPixels(page, chart)).not.toBe(before);

  // Stop a peer from the dashboard: the node shows its server stopped, then its circuit open.
  const node = page.locator('[data-node="grpc/grpc-b"]');
  expect(await node.getAttribute('data-running')).toBe('true');
  await node.locator('button[data-action=stop]').click();
  await page.waitForSelector('[data-node="grpc/grpc-b"][data-running=false]', { timeout: 5_000 });
  expect(await node.locator('[data-role=peer]').textContent()).toBe('server stopped');
  await page.waitForSelector('[data-node="grpc/grpc-b"][data-circuit=open]', { timeout: 15_000 });
  expect(await node.locator('[data-role=circuit]').textContent()).toBe('circuit open');
  expect(await page.locator('[data-pool=grpc]').getAttribute('data-status')).toBe('degraded');
  await page.waitForFunction("(document.getElementById('activity')?.textContent ?? '').includes('circuit OPEN')", undefined, { timeout: 5_000 });

  mkdirSync(artifacts, { recursive: true });
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: `${artifacts}dashboard.png`, fullPage: true });

  // Bring it back: the pool heals.
  await node.locator('button[data-action=start]').click();
  await page.waitForSelector('[data-node="grpc/grpc-b"][data-running=true][data-circuit=closed][data-healthy=true]', { timeout: 15_000 });
  await page.waitForSelector('[data-pool=grpc][data-status=healthy]', { timeout: 5_000 });

  // The load slider reaches the workload.
  await page.locator('#rate').fill('3');
  await page.locator('#rate').dispatchEvent('change');
  await expect.poll(() => demo.workload.rate, { timeout: 5_000 }).toBe(3);

  expect(pageErrors).toEqual([]);
  for (const secret of demo.peers.secrets) expect((await page.content()).includes(secret)).toBe(false);
}, 60_000);
