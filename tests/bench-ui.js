#!/usr/bin/env node
/**
 * `npm run bench:ui [-- --json]`: the app's figures from BENCH.md, measured in Debian's Chromium on the
 * browser build. Prints a table, or one JSON object per line ({name, value, unit, n, detail}).
 *   first_paint     load → first contentful paint (target ≤ 1500 ms)
 *   editor_ready    load → Monaco showing the script
 *   engine_ready    load → the engine worker said ready
 *   run_roundtrip   Ctrl+Enter → run result for the starter scenario (warm engine)
 *   panel_update    run result → console, status and the state panels drawn (target ≤ 100 ms)
 *   panel_update_builtin  the same for a built-in scenario (strict-vs-lazy.ts, opened from the gallery)
 *   mappings_*      scrolling the Domains panel's 1 M-row mapping list (tests/bench-mappings.js)
 *   trace_*_fps     scrolling the Trace panel through a 1 M-event run (tests/bench-trace.js)
 * The window is 1600×1000, the default layout: Domains, Reserved regions, IOTLB and Console all drawn.
 */
import { ensureWebBuild, startServer } from '../scripts/web.js';
import { launchChromium } from './chromium.js';
import { benchTraceScroll } from './bench-trace.js';
import { benchMappingScroll } from './bench-mappings.js';

const json = process.argv.includes('--json');
const RUNS = 5;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

ensureWebBuild();
const server = await startServer({ port: 0 });
const browser = await launchChromium();
const results = [];
try {
  const loads = { first_paint: [], editor_ready: [], engine_ready: [] };
  const runs = { run_roundtrip: [], panel_update: [], panel_update_builtin: [] };
  for (let i = 0; i < 3; i++) {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const t0 = Date.now();
    await page.goto(server.url);
    await page.locator('.monaco-editor .view-lines').waitFor();
    loads.editor_ready.push(Date.now() - t0);
    await page.getByTestId('status').filter({ hasText: 'engine ready' }).waitFor({ timeout: 30_000 });
    loads.engine_ready.push(Date.now() - t0);
    loads.first_paint.push(
      await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN),
    );
    if (i === 0) {
      await page.locator('.monaco-editor .view-lines').click();
      for (let r = 0; r < RUNS + 1; r++) {
        await page.keyboard.press('Control+Enter');
        await page.waitForFunction(() => performance.getEntriesByName('lab:panel-update').length > 0, null, {
          timeout: 30_000,
        });
        const m = await page.evaluate(() => ({
          run: performance.getEntriesByName('lab:run')[0].duration,
          panel: performance.getEntriesByName('lab:panel-update')[0].duration,
        }));
        // The first run warms the engine up; the figure is for a warm one.
        if (r > 0) {
          runs.run_roundtrip.push(m.run);
          runs.panel_update.push(m.panel);
        }
        await page.waitForFunction(() => !document.querySelector('[data-testid=stop]:not([disabled])'));
      }
      // A built-in scenario, opened from Help → Scenario gallery, drawn in all the state panels.
      await page.getByTestId('panel-tab-help').click();
      await page.getByTestId('help-tab-gallery').click();
      await page.locator('li[data-scenario="strict-vs-lazy.ts"]').getByTestId('gallery-open').click();
      await page.getByTestId('panel-tab-domains').click();
      await page.locator('.monaco-editor .view-lines').click();
      for (let r = 0; r < RUNS + 1; r++) {
        await page.keyboard.press('Control+Enter');
        await page.waitForFunction(() => performance.getEntriesByName('lab:panel-update').length > 0, null, {
          timeout: 30_000,
        });
        const panel = await page.evaluate(() => performance.getEntriesByName('lab:panel-update')[0].duration);
        if (r > 0) runs.panel_update_builtin.push(panel);
        await page.waitForFunction(() => !document.querySelector('[data-testid=stop]:not([disabled])'));
      }
      await page.getByTestId('iotlb-instance').waitFor();
    }
    await page.close();
  }
  for (const [name, xs] of Object.entries({ ...loads, ...runs })) {
    results.push({
      name,
      value: Math.round(median(xs) * 10) / 10,
      unit: 'ms',
      n: xs.length,
      detail: 'median, Chromium, browser build',
    });
  }
  results.push(...(await benchMappingScroll(browser, server.url)));
  results.push(...(await benchTraceScroll(browser, server.url)));
} finally {
  await browser.close();
  await server.close();
}
if (json) for (const r of results) console.log(JSON.stringify(r));
else {
  console.log('name                  value        n  detail');
  for (const r of results)
    console.log(
      `${r.name.padEnd(21)} ${String(r.value).padStart(7)} ${r.unit.padEnd(4)} ${String(r.n).padStart(4)}  ${r.detail}`,
    );
}
