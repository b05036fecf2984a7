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
