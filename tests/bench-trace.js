/**
 * The Trace panel's figure for `npm run bench:ui` (BENCH.md: scrolling a 1 M-row trace at ≥ 50 frames
 * per second). A scenario records about a million events; the panel then scrolls in the page, one step
 * per animation frame, and the frames that were drawn are counted:
 *   trace_scroll_fps  scrolling by 30 rows a frame (a fast wheel), rows fetched from the engine as they come
 *   trace_jump_fps    dragging the scroll bar: through the whole million in about three seconds
 * The detail says how many of the frames showed rows still on their way from the engine.
 */
import { runInNewTab, scrollRows } from './bench-scroll.js';

/** 200,000 iommu_map calls of 4 KiB: five events each (api_call, map, map_pages, pgtable_map, api_return). */
const SCRIPT = [
  "import { lab, iommu_paging_domain_alloc, iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
  "const dev = lab.add_device('dev0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });",
  'const d = iommu_paging_domain_alloc(dev);',
  'for (let i = 0; i < 200000; i++) iommu_map(d, 0x100000 + i * SZ_4K, 0x80000000 + i * SZ_4K, SZ_4K, IOMMU_READ);',
  '',
].join('\n');

/** Measure on a fresh page of the served web build; returns bench result rows. */
export async function benchTraceScroll(browser, url) {
  const { page, outcome } = await runInNewTab(browser, url, SCRIPT, 60_000);
  try {
    if (outcome !== 'passed') throw new Error(`the 1 M-event scenario did not pass: ${outcome}`);
    await page.getByTestId('panel-tab-trace').click();
    await page.getByTestId('trace-count').filter({ hasText: 'events' }).waitFor({ timeout: 30_000 });
    const events = Number((await page.getByTestId('trace-count').textContent()).replace(/\D/g, ''));
    return await scrollRows(page, {
      prefix: 'trace',
      list: '[data-testid=trace-rows]',
      pending: '.row:not(:has(.c-name))',
      wheelPx: 600,
      what: `${events.toLocaleString('en')} events`,
    });
  } finally {
    await page.close();
  }
}
