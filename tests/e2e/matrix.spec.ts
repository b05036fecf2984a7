import { expect, test, type Page } from '@playwright/test';
import { consoleRows, newTab, openLab, setScript } from './lab.ts';
import { showPanel } from './panels.ts';

/** Passes on arm-smmu-v3, fails elsewhere; uses an API v6.16 no longer has (n/a there). */
const SCENARIO = [
  "import { lab, iommu_domain_alloc, expect } from 'iommu-lab';",
  '',
  "const driver = lab.params.driver ?? 'arm-smmu-v3';",
  "const iommu = lab.add_iommu('i0', driver);",
  "lab.add_device('dev0', { iommu });",
  "if (lab.kernel() === 'v6.16') iommu_domain_alloc(lab.bus('pci'));",
  "if (driver === 'omap-iommu') for (;;) {}",
  "expect(driver).toBe('arm-smmu-v3');",
  '',
].join('\n');

async function choose(page: Page, drivers: string[], kernels: string[]): Promise<void> {
  for (const box of await page
    .locator('[data-testid^=matrix-driver-], [data-testid^=matrix-kernel-]')
    .all()) {
    const id = (await box.getAttribute('data-testid'))!.replace(/^matrix-(driver|kernel)-/, '');
    if (drivers.includes(id) || kernels.includes(id)) await box.check();
    else await box.uncheck();
  }
}

test('a matrix run fills the table: pass, fail with the first failed expectation, n/a', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, SCENARIO);
  await showPanel(page, 'matrix');
  await choose(page, ['arm-smmu-v3', 'intel-iommu'], ['v6.6', 'v6.16']);
  await page.getByTestId('matrix-run').click();
  const cell = (d: string, k: string) =>
    page.locator(`[data-testid=matrix-cell][data-driver="${d}"][data-kernel="${k}"]`);
  await expect(page.getByTestId('matrix-summary')).toHaveText('1 passed · 1 failed · 0 error · 2 n/a', {
    timeout: 30_000,
  });
  await expect(page.getByTestId('matrix-table').locator('thead th')).toHaveText([
    /scratch-/,
    'v6.6',
    'v6.16',
  ]);
  await expect(cell('arm-smmu-v3', 'v6.6')).toHaveAttribute('data-status', 'passed');
  await expect(cell('intel-iommu', 'v6.6')).toHaveAttribute('data-status', 'failed');
  await expect(cell('intel-iommu', 'v6.6')).toContainText('expected "arm-smmu-v3" but got "intel-iommu"');
  await expect(cell('arm-smmu-v3', 'v6.16')).toHaveAttribute('data-status', 'n/a');
  await expect(cell('arm-smmu-v3', 'v6.16')).toContainText(/v6\.1\d/);

  // Clicking a cell makes it the current run: the failing driver on its kernel, in every panel.
  await cell('intel-iommu', 'v6.6').click();
  await expect(page.getByTestId('outcome')).toHaveText('failed', { timeout: 30_000 });
  await expect(cell('intel-iommu', 'v6.6')).toHaveClass(/opened/);
  // The kernel selector keeps the next run's profile; the status bar says which one this run had.
  await expect(page.getByTestId('ran-kernel')).toHaveText('ran on v6.6');
  await showPanel(page, 'console');
  await expect(consoleRows(page).first()).toContainText('kernel v6.6 · driver=intel-iommu');
  await showPanel(page, 'trace');
  await page.getByTestId('trace-search').fill('driver=intel-iommu');
  await expect(page.getByTestId('trace-rows').locator('.row').first()).toContainText(
    'iommu_domain_alloc domain=1 type=11 driver=intel-iommu', // the x86 default: DMA-FQ
  );
});

/** Passes only with the session's seed (7) and its param `size`, as the Run button runs it. */
const SEEDED = [
  "import { lab, expect } from 'iommu-lab';",
  "lab.add_device('dev0', { iommu: lab.add_iommu('i0', lab.params.driver ?? 'arm-smmu-v3') });",
  "expect(lab.params.size).toBe('0x2000');",
  'expect(lab.random()).toBe(0.011704753153026104);',
  '',
].join('\n');

test("cells run with the session's seed and params, as Run does and as an opened cell runs", async ({
  page,
}) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, SEEDED);
  await page.getByTestId('session-name').click();
  await page.getByTestId('session-seed').fill('7');
  await page.getByTestId('session-seed').press('Enter');
  await page.getByTestId('session-param-name').fill('size');
  await page.getByTestId('session-param-value').fill('0x2000');
  await page.getByTestId('session-param-add').click();
  await page.keyboard.press('Escape');
  await showPanel(page, 'matrix');
  await choose(page, ['arm-smmu-v3', 'amd-iommu'], ['v6.16']);
  await page.getByTestId('matrix-run').click();
  await expect(page.getByTestId('matrix-summary')).toHaveText('2 passed · 0 failed · 0 error · 0 n/a', {
    timeout: 30_000,
  });
  // Opened again as the current run, the cell gives what the sweep showed.
  await page.locator('[data-testid=matrix-cell][data-driver="amd-iommu"][data-kernel="v6.16"]').click();
  await expect(page.getByTestId('outcome')).toHaveText('passed', { timeout: 30_000 });
});

/** IOMMU-FACTS §6 (a): before v6.9 a map before the first attach fails on SMMUv3 and on virtio-iommu. */
const MAP_BEFORE_ATTACH = [
  "import { lab, iommu_domain_alloc, iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
  '',
  "const iommu = lab.add_iommu('i0', lab.params.driver ?? 'arm-smmu-v3');",
  "lab.add_device('dev0', { iommu });",
  "const domain = iommu_domain_alloc(lab.bus('pci'))!;",
  'iommu_map(domain, 0x100000, lab.mem.alloc(SZ_4K), SZ_4K, IOMMU_READ);',
  '',
].join('\n');

test('each cell shows its first differing result; the header names the call and links its line', async ({
  page,
}) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, MAP_BEFORE_ATTACH);
  await showPanel(page, 'matrix');
  await choose(page, ['arm-smmu-v3', 'intel-iommu', 'virtio-iommu'], ['v6.8', 'v6.16']);
  await page.getByTestId('matrix-run').click();
  await expect(page.getByTestId('matrix-summary')).toHaveText('3 passed · 0 failed · 0 error · 3 n/a', {
    timeout: 30_000,
  });
  await expect(page.getByTestId('matrix-comparison')).toContainText(
    'first differing result: iommu_map, line 6 (step 5)',
  );
  const difference = (d: string, k: string) =>
    page.locator(
      `[data-testid=matrix-cell][data-driver="${d}"][data-kernel="${k}"] [data-testid=matrix-cell-difference]`,
    );
  await expect(difference('arm-smmu-v3', 'v6.8')).toHaveText('line 6 iommu_map → -ENODEV');
  await expect(difference('virtio-iommu', 'v6.8')).toHaveText('line 6 iommu_map → -EINVAL');
  await expect(difference('intel-iommu', 'v6.8')).toHaveText('line 6 iommu_map → 0');
  await expect(difference('arm-smmu-v3', 'v6.8')).toHaveAttribute('title', 'line 6 iommu_map → -ENODEV');
  // v6.16 has no iommu_domain_alloc: its cells are n/a and take no part.
  await expect(
    page.locator('[data-testid=matrix-cell][data-kernel="v6.16"] [data-testid=matrix-cell-difference]'),
  ).toHaveCount(0);

  await page.getByTestId('matrix-comparison-line').click();
  await expect(page.getByTestId('status')).toContainText('Ln 6,');

  // Drivers that agree: VT-d and AMD both map before the attach.
  await choose(page, ['intel-iommu', 'amd-iommu'], ['v6.8']);
  await page.getByTestId('matrix-run').click();
  await expect(page.getByTestId('matrix-comparison')).toHaveText('all results agree', { timeout: 30_000 });
  await expect(page.locator('[data-testid=matrix-cell-difference]')).toHaveCount(0);
});

/** A DMA read after an unmap without its sync: virtio's host still reads, SMMUv3 and s390 fault differently. */
const UNSYNCED_READ = [
  "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_map, iommu_unmap_fast, iommu_iotlb_gather_init, IOMMU_READ, IOMMU_WRITE, SZ_4K } from 'iommu-lab';",
  "const dev = lab.add_device('dev0', { iommu: lab.add_iommu('i0', lab.params.driver ?? 'arm-smmu-v3') });",
  'const buf = lab.mem.alloc(SZ_4K);',
  'lab.mem.write(buf, [1, 2, 3, 4]);',
  'const domain = iommu_paging_domain_alloc(dev);',
  'iommu_attach_device(domain, dev);',
  'iommu_map(domain, 0x100000, buf, SZ_4K, IOMMU_READ | IOMMU_WRITE);',
  'iommu_unmap_fast(domain, 0x100000, SZ_4K, iommu_iotlb_gather_init());',
  'dev.dma_read(0x100000, 4);',
  '',
].join('\n');

test('a cell shows the fields of its result that differ, wrapped, with the whole result on hover', async ({
  page,
}) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, UNSYNCED_READ);
  await showPanel(page, 'matrix');
  await choose(page, ['arm-smmu-v3', 'virtio-iommu', 's390-iommu'], ['v6.16']);
  await page.getByTestId('matrix-run').click();
  await expect(page.getByTestId('matrix-summary')).toHaveText('3 passed · 0 failed · 0 error · 0 n/a', {
    timeout: 30_000,
  });
  await expect(page.getByTestId('matrix-comparison')).toContainText(
    'first differing result: device.dma_read, line 9',
  );
  const difference = (d: string) =>
    page.locator(`[data-testid=matrix-cell][data-driver="${d}"] [data-testid=matrix-cell-difference]`);
  const s390 = difference('s390-iommu');
  await expect(s390).toHaveText(
    "line 9 device.dma_read → { ok: false, fault: { reason: 'out-of-dma-window', … } }",
  );
  await expect(s390).toHaveAttribute(
    'title',
    "line 9 device.dma_read → { ok: false, fault: { reason: 'out-of-dma-window', iova: 0x100000, write: false } }",
  );
  await expect(difference('arm-smmu-v3')).toHaveText(
    "line 9 device.dma_read → { ok: false, fault: { reason: 'translation', … } }",
  );
  // Every field of virtio's read differs from a fault: the whole result, over a few lines.
  const virtio = difference('virtio-iommu');
  await expect(virtio).toHaveText(
    "line 9 device.dma_read → { ok: true, pa: 'buf1+0x0', tlb: 'stale', data: Uint8Array(4) <01 02 03 04> }",
  );
  // Nothing is cut off: the text wraps inside the cell instead, and the reason is on screen.
  for (const cell of [s390, virtio]) {
    const box = await cell.evaluate((el) => ({
      lines: new Set([...el.querySelectorAll('.piece')].map((p) => Math.round(p.getBoundingClientRect().top)))
        .size,
      clipped: el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1,
    }));
    expect(box.clipped).toBe(false);
    expect(box.lines).toBeGreaterThan(1);
  }
  const reason = s390.locator('.piece', { hasText: 'out-of-dma-window' });
  const [outer, inner] = [await s390.boundingBox(), await reason.boundingBox()];
  expect(inner!.x + inner!.width).toBeLessThanOrEqual(outer!.x + outer!.width + 0.5);
  expect(inner!.y + inner!.height).toBeLessThanOrEqual(outer!.y + outer!.height + 0.5);
});

test('a matrix sweep shows progress and can be cancelled', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, SCENARIO);
  await showPanel(page, 'matrix');
  // The omap cell spins until its time limit: the sweep stays busy there.
  await choose(page, ['arm-smmu-v3', 'omap-iommu'], ['v6.6']);
  await page.getByTestId('matrix-run').click();
  await expect(page.getByTestId('matrix-progress')).toHaveText('1 / 2');
  await page.getByTestId('matrix-cancel').click();
  await expect(page.getByTestId('matrix-message')).toHaveText('cancelled');
  await expect(page.getByTestId('matrix-run')).toBeEnabled({ timeout: 30_000 });
  await expect(page.getByTestId('status')).toContainText('engine ready');
  // The cell that finished stays in the table.
  await expect(page.locator('[data-testid=matrix-cell][data-driver="arm-smmu-v3"]')).toHaveAttribute(
    'data-status',
    'passed',
  );
});

/** Hard-codes virtio-iommu instead of reading lab.params.driver; before v6.9 its map before attach oopses. */
const HARD_CODED = [
  "import { lab, iommu_domain_alloc, iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
  '',
  "const iommu = lab.add_iommu('i0', 'virtio-iommu');",
  "lab.add_device('dev0', { iommu });",
  "const domain = iommu_domain_alloc(lab.bus('pci'))!;",
  'iommu_map(domain, 0x100000, lab.mem.alloc(SZ_4K), SZ_4K, IOMMU_READ);',
  '',
].join('\n');

test('a cell shows the checks that fired, and a cell that never ran its driver is marked', async ({
  page,
}) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, HARD_CODED);
  await showPanel(page, 'matrix');
  await choose(page, ['arm-smmu-v3', 'virtio-iommu'], ['v6.6']);
  await page.getByTestId('matrix-run').click();
  const cell = (d: string) => page.locator(`[data-testid=matrix-cell][data-driver="${d}"]`);
  await expect(page.getByTestId('matrix-summary')).toHaveText(
    '1 passed · 1 passed without their driver · 0 failed · 0 error · 0 n/a',
    { timeout: 30_000 },
  );
  // The arm-smmu-v3 row ran virtio-iommu: marked, with the reason in the cell's tooltip.
  await expect(cell('arm-smmu-v3')).toHaveClass(/nodriver/);
  await expect(cell('arm-smmu-v3').getByTestId('matrix-cell-warning')).toHaveText(
    '? did not run arm-smmu-v3',
  );
  await expect(cell('arm-smmu-v3')).toHaveAttribute(
    'title',
    /the script added no arm-smmu-v3 IOMMU \(only virtio-iommu\): it ignores lab\.params\.driver/,
  );
  await expect(cell('virtio-iommu')).not.toHaveClass(/nodriver/);
  await expect(cell('virtio-iommu').getByTestId('matrix-cell-warning')).toHaveCount(0);
  // Both passed, and in both the NULL viommu oopsed: the count shows, the ids are in the tooltips.
  for (const d of ['arm-smmu-v3', 'virtio-iommu']) {
    const checks = cell(d).getByTestId('matrix-cell-checks');
    await expect(checks).toHaveText('⚠ 3');
    await expect(checks).toHaveAttribute(
      'title',
      'Checks: attach-time-finalise, map-before-attach-failed, kernel-oops',
    );
    await expect(cell(d)).toHaveAttribute('title', /\nChecks: .*kernel-oops/);
  }
});

test("the panel's header names the file the matrix ran, not the tab now active", async ({ page }) => {
  await openLab(page);
  await newTab(page);
  const file = (await page.locator('[data-testid=tab][aria-selected=true] .name').textContent())!;
  await setScript(page, SCENARIO);
  await showPanel(page, 'matrix');
  await choose(page, ['arm-smmu-v3'], ['v6.6', 'v6.8']);
  await expect(page.getByTestId('matrix-heading')).toHaveText(`${file} · 1 × 2 cells`);
  await page.getByTestId('matrix-run').click();
  await expect(page.getByTestId('matrix-summary')).toHaveText('2 passed · 0 failed · 0 error · 0 n/a', {
    timeout: 30_000,
  });
  await newTab(page);
  await expect(page.locator('[data-testid=tab][aria-selected=true]')).not.toHaveText(file);
  await expect(page.getByTestId('matrix-heading')).toHaveText(`${file} · 1 × 2 cells`);
  await expect(page.getByTestId('matrix-table').locator('thead th').first()).toHaveText(file);
});
