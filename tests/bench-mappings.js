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

const SCRIPT = readFileSync(new URL('./fixtures/million-mappings.ts', import.meta.url), 'utf8');

/** Runs in the page: the frame rate of the page doing nothing, the ceiling the scrolling figures meet. */
const IDLE = `new Promise((resolve) => {
  let n = 0;
  const t0 = performance.now();
  const tick = () => (++n >= 120 ? resolve(n / ((performance.now() - t0) / 1000)) : requestAnimationFrame(tick));
  requestAnimationFrame(tick);
})`;

/** Runs in the page: scroll the mapping list `frames` times by `px` (or through all of it) and time it. */
const SCROLL = `async ({ frames, px }) => {
  const el = document.querySelector('[data-testid=mapping-list]');
  el.scrollTop = 0;
  await new Promise((r) => setTimeout(r, 300));
  const max = el.scrollHeight - el.clientHeight;
  const step = px > 0 ? px : max / frames;
  let drawn = 0;
  let waiting = 0;
  // The position is kept here: reading scrollTop back would force a layout every frame, which a
  // wheel or a dragged scroll bar does not.
  let pos = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const tick = () => {
      drawn++;
      if (el.querySelector('.loading')) waiting++;
      if (drawn >= frames || pos >= max) return resolve();
      pos = Math.min(max, pos + step);
      el.scrollTop = pos;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const seconds = (performance.now() - t0) / 1000;
  return { fps: drawn / seconds, frames: drawn, seconds, waiting };
}`;

/** Measure on a fresh page of the served web build; returns bench result rows. */
export async function benchMappingScroll(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  try {
    await page.goto(url);
    await page.locator('.monaco-editor .view-lines').waitFor();
    await page.getByTestId('status').filter({ hasText: 'engine ready' }).waitFor({ timeout: 30_000 });
    await page.getByTestId('tab-new').click();
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(SCRIPT);
    await page.keyboard.press('Control+Enter');
    await page.getByTestId('outcome').waitFor({ timeout: 120_000 });
    const outcome = await page.getByTestId('outcome').textContent();
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
    // Main-thread time per frame (script, style, layout, paint) from Chromium's own counters: on a
    // loaded machine the frame rate falls with the machine, this much less.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const busy = async () =>
      (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value * 1000;
    const measure = async (expr) => {
      const before = await busy();
      const m = await page.evaluate(expr);
      return { ...m, msPerFrame: ((await busy()) - before) / m.frames };
    };
    const idle = await page.evaluate(IDLE);
    const wheel = await measure(`(${SCROLL})({ frames: 300, px: 540 })`);
    const jump = await measure(`(${SCROLL})({ frames: 180, px: 0 })`);
    const row = (name, m, what) => ({
      name,
      value: Math.round(m.fps * 10) / 10,
      unit: 'fps',
      n: m.frames,
      detail:
        `${total.toLocaleString('en')} rows, ${what}; ${m.waiting} of ${m.frames} frames showed rows still ` +
        `being fetched; main thread ${m.msPerFrame.toFixed(1)} ms a frame; the idle page drew ${Math.round(idle)} fps`,
    });
    return [
      row('mappings_scroll_fps', wheel, '30 rows a frame'),
      row('mappings_jump_fps', jump, 'the whole list in 180 frames'),
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
