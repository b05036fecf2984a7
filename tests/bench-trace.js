/**
 * The Trace panel's figure for `npm run bench:ui` (BENCH.md: scrolling a 1 M-row trace at ≥ 50 frames
 * per second). A scenario records about a million events; the panel then scrolls in the page, one step
 * per animation frame, and the frames that were drawn are counted:
 *   trace_scroll_fps  scrolling by 30 rows a frame (a fast wheel), rows fetched from the engine as they come
 *   trace_jump_fps    dragging the scroll bar: through the whole million in about three seconds
 * The detail says how many of the frames showed rows still on their way from the engine.
 */

/** 200,000 iommu_map calls of 4 KiB: five events each (api_call, map, map_pages, pgtable_map, api_return). */
const SCRIPT = [
  "import { lab, iommu_paging_domain_alloc, iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
  "const dev = lab.add_device('dev0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });",
  'const d = iommu_paging_domain_alloc(dev);',
  'for (let i = 0; i < 200000; i++) iommu_map(d, 0x100000 + i * SZ_4K, 0x80000000 + i * SZ_4K, SZ_4K, IOMMU_READ);',
  '',
].join('\n');

/** Runs in the page: the frame rate of the page doing nothing, the ceiling the scrolling figures meet. */
const IDLE = `new Promise((resolve) => {
  let n = 0;
  const t0 = performance.now();
  const tick = () => (++n >= 120 ? resolve(n / ((performance.now() - t0) / 1000)) : requestAnimationFrame(tick));
  requestAnimationFrame(tick);
})`;

/** Runs in the page: scroll the trace list `frames` times by `px` (or through all of it) and time it. */
const SCROLL = `async ({ frames, px }) => {
  const el = document.querySelector('[data-testid=trace-rows]');
  el.scrollTop = 0;
  await new Promise((r) => setTimeout(r, 300));
  const max = el.scrollHeight - el.clientHeight;
  const step = px > 0 ? px : max / frames;
  let drawn = 0;
  let waiting = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const tick = () => {
      drawn++;
      if (el.querySelector('.row:not(:has(.c-name))')) waiting++;
      if (drawn >= frames || el.scrollTop >= max) return resolve();
      el.scrollTop = Math.min(max, el.scrollTop + step);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const seconds = (performance.now() - t0) / 1000;
  return { fps: drawn / seconds, frames: drawn, seconds, waiting };
}`;

/** Measure on a fresh page of the served web build; returns bench result rows. */
export async function benchTraceScroll(browser, url) {
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
    await page.getByTestId('outcome').waitFor({ timeout: 60_000 });
    const outcome = await page.getByTestId('outcome').textContent();
    if (outcome !== 'passed') throw new Error(`the 1 M-event scenario did not pass: ${outcome}`);
    await page.getByTestId('panel-tab-trace').click();
    await page.getByTestId('trace-count').filter({ hasText: 'events' }).waitFor({ timeout: 30_000 });
    const events = Number((await page.getByTestId('trace-count').textContent()).replace(/\D/g, ''));
    // Main-thread time per frame (script, style, layout, paint), from Chromium's own counters: on a
    // loaded machine the frame rate drops with the machine, this much less.
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
    const wheel = await measure(`(${SCROLL})({ frames: 300, px: 600 })`);
    const jump = await measure(`(${SCROLL})({ frames: 180, px: 0 })`);
    const row = (name, m, what) => ({
      name,
      value: Math.round(m.fps * 10) / 10,
      unit: 'fps',
      n: m.frames,
      detail:
        `${events.toLocaleString('en')} events, ${what}; ${m.waiting} of ${m.frames} frames showed rows ` +
        `still being fetched; main thread ${m.msPerFrame.toFixed(1)} ms a frame; the idle page drew ${Math.round(idle)} fps`,
    });
    return [
      row('trace_scroll_fps', wheel, '30 rows a frame'),
      row('trace_jump_fps', jump, 'the whole list in 180 frames'),
    ];
  } finally {
    await page.close();
  }
}
