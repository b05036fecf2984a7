/**
 * What the scrolling figures of `npm run bench:ui` share (tests/bench-mappings.js, tests/bench-trace.js):
 * running a scenario in a new tab of the served web build, and timing a list scrolled one step per
 * animation frame, next to the frame rate of the idle page and Chromium's main-thread time per frame.
 */

/** Open the lab at `url`, run `script` in a new tab; returns the page and the run's outcome. */
export async function runInNewTab(browser, url, script, timeout) {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(url);
  await page.locator('.monaco-editor .view-lines').waitFor();
  await page.getByTestId('status').filter({ hasText: 'engine ready' }).waitFor({ timeout: 30_000 });
  await page.getByTestId('tab-new').click();
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(script);
  await page.keyboard.press('Control+Enter');
  await page.getByTestId('outcome').waitFor({ timeout });
  return { page, outcome: await page.getByTestId('outcome').textContent() };
}

/** Runs in the page: the frame rate of the page doing nothing, the ceiling the scrolling figures meet. */
const IDLE = `new Promise((resolve) => {
  let n = 0;
  const t0 = performance.now();
  const tick = () => (++n >= 120 ? resolve(n / ((performance.now() - t0) / 1000)) : requestAnimationFrame(tick));
  requestAnimationFrame(tick);
})`;

/**
 * Runs in the page: scroll the list `frames` times by `px` (or through all of it) and time it;
 * `waiting` counts the frames where `pending` matched (rows still on their way from the engine).
 */
const SCROLL = `async ({ list, pending, frames, px }) => {
  const el = document.querySelector(list);
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
      if (el.querySelector(pending)) waiting++;
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

/**
 * Scroll `list` (a CSS selector) by `wheelPx` a frame for 300 frames (a fast wheel), then drag
 * through all of it in 180 frames; returns the two rows `${prefix}_scroll_fps` and `${prefix}_jump_fps`.
 * `what` names the list's length in the detail ("1,048,576 rows").
 */
export async function scrollRows(page, { prefix, list, pending, wheelPx, what }) {
  // Main-thread time per frame (script, style, layout, paint) from Chromium's own counters: on a
  // loaded machine the frame rate falls with the machine, this much less.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const busy = async () =>
    (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value * 1000;
  const measure = async (frames, px) => {
    const before = await busy();
    const m = await page.evaluate(`(${SCROLL})(${JSON.stringify({ list, pending, frames, px })})`);
    return { ...m, msPerFrame: ((await busy()) - before) / m.frames };
  };
  const idle = await page.evaluate(IDLE);
  const row = (name, m, how) => ({
    name,
    value: Math.round(m.fps * 10) / 10,
    unit: 'fps',
    n: m.frames,
    detail:
      `${what}, ${how}; ${m.waiting} of ${m.frames} frames showed rows still being fetched; ` +
      `main thread ${m.msPerFrame.toFixed(1)} ms a frame; the idle page drew ${Math.round(idle)} fps`,
  });
  return [
    row(`${prefix}_scroll_fps`, await measure(300, wheelPx), '30 rows a frame'),
    row(`${prefix}_jump_fps`, await measure(180, 0), 'the whole list in 180 frames'),
  ];
}
