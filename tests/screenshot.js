#!/usr/bin/env node
/**
 * Real screenshots of the lab for the README: serve the web build, open it in Debian's Chromium at
 * 1600×1000, open the strict-vs-lazy scenario from the gallery, run it, step back to where the lazily
 * unmapped page is still in the IOTLB (stale), open the DMA-FQ domain's mappings, and save
 * docs/screenshots/lab.png (and lab-dark.png).
 *   node tests/screenshot.js
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ensureWebBuild, ROOT, startServer } from '../scripts/web.js';
import { launchChromium } from './chromium.js';

const outDir = path.join(ROOT, 'docs/screenshots');
mkdirSync(outDir, { recursive: true });
ensureWebBuild();
const server = await startServer({ port: 0 });
const browser = await launchChromium();

/** Wait until the state panels show the step the status bar shows. */
async function settled(page) {
  await page.waitForFunction(() => {
    const status = document.querySelector('[data-testid=steps]')?.textContent ?? '';
    const badge = document.querySelector('[data-testid=panel-step]')?.textContent ?? '';
    const want = /step (\d+) \//.exec(status)?.[1] ?? /steps (\d+)/.exec(status)?.[1];
    return want !== undefined && /step (\d+)/.exec(badge)?.[1] === want && !badge.includes('…');
  });
}

try {
  for (const [scheme, file] of [
    ['light', 'lab.png'],
    ['dark', 'lab-dark.png'],
  ]) {
    const page = await browser.newPage({
      viewport: { width: 1600, height: 1000 },
      colorScheme: scheme,
      deviceScaleFactor: 1,
    });
    await page.goto(server.url);
    await page.locator('.monaco-editor .view-lines').waitFor();
    await page.getByTestId('status').filter({ hasText: 'engine ready' }).waitFor({ timeout: 30_000 });
    await page.getByTestId('panel-tab-help').click();
    await page.getByTestId('help-tab-gallery').click();
    await page.locator('li[data-scenario="strict-vs-lazy.ts"]').getByTestId('gallery-open').click();
    await page.getByTestId('panel-tab-domains').click();
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('Control+Enter');
    await page.getByTestId('outcome').waitFor({ timeout: 30_000 });
    await settled(page);
    // Back two steps: after the lazy unmap, before the flush queue is flushed.
    await page.keyboard.press('Shift+F10');
    await page.keyboard.press('Shift+F10');
    await settled(page);
    await page.locator('[data-testid=domain-card][data-domain="2"] [data-testid=domain-toggle]').click();
    await page
      .locator('[data-testid=domain-card][data-domain="2"] [data-testid=mapping-row]')
      .first()
      .waitFor();
    // Put the caret on the line the step stands at and let Monaco's workers settle.
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('Control+Home');
    await page.mouse.move(0, 999);
    await page.waitForTimeout(1500);
    const out = path.join(outDir, file);
    await page.screenshot({ path: out });
    console.log(`wrote ${path.relative(ROOT, out)} (${await page.getByTestId('steps').textContent()})`);
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
