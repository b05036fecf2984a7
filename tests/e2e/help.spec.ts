import { expect, test } from '@playwright/test';
import { openLab, runScript } from './lab.ts';
import { showPanel } from './panels.ts';

test('the scenario gallery opens a scenario in a new tab, and it runs with its helpers', async ({ page }) => {
  await openLab(page);
  await showPanel(page, 'help');
  await page.getByTestId('help-tab-gallery').click();
  const card = page.getByTestId('gallery').locator('li[data-scenario="map-before-attach.ts"]');
  await expect(card).toContainText('Map before attach');
  await card.getByTestId('gallery-open').click();
  await expect(page.locator('[data-testid=tab][aria-selected=true]')).toHaveText(/map-before-attach\.ts/);
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('Map before attach');
  // It imports ./lib/iova-window.ts, which every run gets from scenarios/lib.
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  // Opening it again gives a second tab; nothing typed is replaced.
  await card.getByTestId('gallery-open').click();
  await expect(page.locator('[data-testid=tab][aria-selected=true]')).toHaveText(/map-before-attach-2\.ts/);
});

test('the API reference, generated from the .d.ts, finds iommu_map', async ({ page }) => {
  await openLab(page);
  await showPanel(page, 'help');
  await page.getByTestId('help-tab-api').click();
  await page.getByTestId('api-search').fill('iommu_map');
  const first = page.getByTestId('api-reference').locator('article.decl').first();
  await expect(first).toHaveAttribute('data-decl', 'iommu_map');
  await expect(first).toContainText(
    'iommu_map(domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): number',
  );
  await expect(first).toContainText('rolls back on failure');
  await expect(page.getByTestId('api-reference').locator('article[data-decl="iommu_map_sg"]')).toHaveCount(1);
  // Members are searched too: Lab.add_iommu under the Lab interface.
  await page.getByTestId('api-search').fill('add_iommu');
  await expect(page.getByTestId('api-reference').locator('li[data-decl="Lab.add_iommu"]')).toHaveCount(1);
});
