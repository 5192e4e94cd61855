import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tap } from 'rxjs';
import { chromium, type Page } from 'playwright-core';
import * as rx from '../../src/index.js';
import { within } from './helpers.js';

// Debian's chromium (CI installs it); the test is skipped, saying why, where there is none.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = fs.existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
/** Where the screenshot goes (git-ignored). */
export const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;

const attr = (page: Page, name: string): Promise<string> => page.evaluate(`document.body.dataset.${name} ?? ''`);

/** Resolves once `f` holds, polling every 20 ms for at most `ms`. */
async function until(f: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  await within(
    (async () => {
      while (!(await f())) await new Promise((r) => setTimeout(r, 20));
    })(),
    ms,
    what,
  );
}

test('dashboard in headless Chromium: live curves during a fit, a late browser gets the history, the final epoch equals the History', { skip, timeout: 120_000 }, async () => {
  rx.resetNames();
  const model = new rx.Sequential({
    layers: [rx.Dense({ units: 32, activation: 'relu', input_shape: [16] }), rx.Dense({ units: 3, activation: 'softmax' })],
  });
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] }, 1);
  const x = rx.ops.randomNormal([960, 16], 0, 1, 'float32', 1);
  const y = rx.ops.oneHot(rx.ops.argMax(rx.ops.matMul(x, rx.ops.randomNormal([16, 3], 0, 1, 'float32', 2)), 1), 3);
  const dash = rx.dashboard({ port: 0, model });
  const url = await within(dash.url, 10_000, 'the dashboard listening');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1300 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const first = await browser.newPage();
    await first.goto(url);
    await until(async () => (await attr(first, 'status')) === 'waiting' && (await first.evaluate('typeof uPlot')) === 'function', 10_000, 'page loaded with uPlot');

    // 4 epochs of 24 batches; each batch is held ~15 ms (blocking, as a slow step would) so the fit lasts a while.
    let fitting = true;
    const slowSteps = tap((e: rx.FitEvent) => e.type === 'batchEnd' && Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 15));
    const fit = model.fit(x, y, { epochs: 4, batchSize: 32, validationSplit: 0.2, verbose: 0, callbacks: [dash, slowSteps] }).finally(() => (fitting = false));

    // Curves update while training runs.
    await until(async () => Number(await attr(first, 'batchPoints')) >= 5, 30_000, 'first batch points drawn');
    const early = Number(await attr(first, 'batchPoints'));
    assert.ok(fitting, 'the first points were drawn during the fit');
    await until(async () => Number(await attr(first, 'batchPoints')) >= early + 20, 30_000, 'more batch points drawn');
    assert.ok(fitting, 'and more while it still ran');

    // A second browser, opened late, gets what came before it.
    const late = await browser.newPage();
    await late.goto(url);
    await until(async () => Number(await attr(late, 'batchPoints')) >= early + 20, 10_000, 'history in the late page');

    const history = await within(fit, 60_000, 'the fit');
    for (const page of [first, late]) {
      await until(async () => (await attr(page, 'status')) === 'done', 10_000, 'status done');
      assert.equal(await attr(page, 'epochs'), '4');
      assert.equal(await attr(page, 'batchPoints'), String(4 * 24));
      const shown = await page.$$eval('#last-epoch td[data-key]', (cells: any[]) => cells.map((c): [string, number] => [c.dataset.key, Number(c.dataset.value)]));
      const final = Object.entries(history.history).map(([k, v]): [string, number | undefined] => [k, v.at(-1)]);
      assert.deepEqual(new Map(shown), new Map(final), 'the last epoch shown is the History');
      assert.deepEqual(Object.keys(history.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
      assert.equal(await page.$eval('#epoch-loss', (el: any) => el.dataset.points), '4');
      assert.deepEqual(await page.$$eval('#epoch-loss .u-legend .u-series', (s: any[]) => s.map((e) => e.textContent.trim())), ['loss', 'val_loss']);
      assert.match(await page.$eval('#summary', (el) => el.textContent ?? ''), /Total params: 643/);
      assert.match(await page.$eval('#progress', (el) => el.textContent ?? ''), /^epoch 4 \/ 4, batch 24 \/ 24$/);
    }
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await first.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  } finally {
    await browser.close();
    await dash.close();
    fs.rmSync(profile, { recursive: true, force: true });
    rx.ops.dispose([x, y]);
  }
});
