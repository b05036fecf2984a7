/**
 * The Domains panel's figures for `npm run bench:ui` (BENCH.md: scrolling a 1 M-row mapping list at
 * ≥ 50 frames per second). tests/fixtures/million-mappings.ts maps 1,048,576 unmergeable 4 KiB pages;
 * the domain's card is opened and its mapping list scrolled in the page, one step per animation frame:
 *   mappings_scroll_fps  30 rows a frame (a fast wheel), rows fetched from the engine as they come
 *   mappings_jump_fps    dragging the scroll bar: through the whole million in 180 frames
 *   mappings_first_rows  from opening the card to its first rows drawn (the first window is the
 *                        slow one: the engine collects the million ranges once per state)
 * The detail says how many frames showed rows still on their way from the engine.
 */
import { readFileSync } from 'node:fs';
import { runInNewTab, scrollRows } from './bench-scroll.js';

const SCRIPT = readFileSync(new URL('./fixtures/million-mappings.ts', import.meta.url), 'utf8');

/** Measure on a fresh page of the served web build; returns bench result rows. */
export async function benchMappingScroll(browser, url) {
  const { page, outcome } = await runInNewTab(browser, url, SCRIPT, 120_000);
  try {
    if (outcome !== 'passed') {
      // 'stopped': the run outlived the app's time limit (a busy machine); say so instead of a figure.
      const why = `the 1 M-mapping scenario ended ${outcome} (${await page.getByTestId('time').textContent()})`;
      return ['mappings_scroll_fps', 'mappings_jump_fps'].map((name) => ({
        name,
        value: NaN,
        unit: 'fps',
        n: 0,
        detail: why,
      }));
    }
    const card = page.locator('[data-testid=domain-card]').filter({ hasText: 'UNMANAGED' });
    await card.filter({ hasText: /1\s*048\s*576\s+ranges/ }).waitFor({ timeout: 120_000 });
    const t0 = Date.now();
    await card.getByTestId('domain-toggle').click();
    await card.getByTestId('mapping-row').first().waitFor({ timeout: 60_000 });
    const firstRows = Date.now() - t0;
    // Let the engine finish what it does after a run (time-travel checkpoints) before timing frames:
    // on two cores it competes with the page for the CPU.
    await page.waitForTimeout(3000);
    const total = Number(await card.getByTestId('mapping-list').getAttribute('data-total'));
    const rows = await scrollRows(page, {
      prefix: 'mappings',
      list: '[data-testid=mapping-list]',
      pending: '.loading',
      wheelPx: 540,
      what: `${total.toLocaleString('en')} rows`,
    });
    return [
      ...rows,
      {
        name: 'mappings_first_rows',
        value: firstRows,
        unit: 'ms',
        n: 1,
        detail: `opening the card to its first rows, ${total.toLocaleString('en')} ranges`,
      },
    ];
  } catch (err) {
    if (process.env.BENCH_SHOT) await page.screenshot({ path: process.env.BENCH_SHOT });
    throw err;
  } finally {
    await page.close();
  }
}
