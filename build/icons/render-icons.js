#!/usr/bin/env node
/**
 * Renders icon.svg to the PNG sizes electron-builder wants (Linux reads the NxN.png set from this
 * folder; macOS and Windows convert the 1024 and 256 ones). Uses the system Chromium, no download:
 *   node build/icons/render-icons.js
 */
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
const svg = readFileSync(path.join(here, 'icon.svg'), 'utf8');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const page = await browser.newPage();
  for (const size of SIZES) {
    await page.setViewportSize({ width: size, height: size });
    const sized = svg.replace(/width="512" height="512"/, `width="${size}" height="${size}"`);
    await page.setContent(`<html><body style="margin:0;background:transparent">${sized}</body></html>`);
    const out = path.join(here, `${size}x${size}.png`);
    await page.locator('svg').screenshot({ path: out, omitBackground: true });
    console.log(out);
  }
} finally {
  await browser.close();
}
