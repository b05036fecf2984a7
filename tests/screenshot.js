#!/usr/bin/env node
/**
 * A real screenshot of the lab for the README: serve the web build, open it in Debian's Chromium, run
 * the starter scenario and save docs/screenshots/lab.png (and lab-dark.png).
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
try {
  for (const [scheme, file] of [
    ['light', 'lab.png'],
    ['dark', 'lab-dark.png'],
  ]) {
    const page = await browser.newPage({
      viewport: { width: 1440, height: 860 },
      colorScheme: scheme,
      deviceScaleFactor: 1,
    });
    await page.goto(server.url);
    await page.locator('.monaco-editor .view-lines').waitFor();
    await page.getByTestId('status').filter({ hasText: 'engine ready' }).waitFor({ timeout: 30_000 });
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Control+Enter');
    await page.getByTestId('outcome').waitFor({ timeout: 30_000 });
    // Let the TypeScript worker settle its squiggles and the cursor blink off.
    await page.waitForTimeout(1500);
    const out = path.join(outDir, file);
    await page.screenshot({ path: out });
    console.log(`wrote ${path.relative(ROOT, out)} (${await page.getByTestId('outcome').textContent()})`);
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
