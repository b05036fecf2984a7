import { expect, test, type Page } from '@playwright/test';
import { lineTop, newTab, openLab, runScript, setScript } from './lab.ts';
import { showPanel } from './panels.ts';

// Steps: 1 lab.add_iommu (line 3), 2 lab.add_device (4; the query on line 5 comes after it),
// 3 alloc (6), 4 attach (7), 5 map (8), 6 map in helpers.ts (its line 3, called from line 9), 7 map (10).
const MAIN = [
  "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_get_domain_for_dev, iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
  "import { mapAt } from './helpers.ts';",
  "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
  "const nic = lab.add_device('nic0', { iommu: smmu });",
  'iommu_get_domain_for_dev(nic);',
  'const d = iommu_paging_domain_alloc(nic) as any;',
  'iommu_attach_device(d, nic);',
  'iommu_map(d, 0x10000, 0x80000000, SZ_4K, IOMMU_READ);',
  'mapAt(d, 0x20000);',
  'iommu_map(d, 0x30000, 0x80002000, SZ_4K, IOMMU_READ);',
  '',
].join('\n');

const HELPERS = [
  "import { iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
  "export const note = 'mapping helpers';",
  'export const mapAt = (d: any, iova: number) => iommu_map(d, iova, 0x80001000, SZ_4K, IOMMU_READ);',
  '',
].join('\n');

/** The line numbers the editor marks as the step's line (the open tab's only). */
function markedNumbers(page: Page) {
  return page.locator('.monaco-editor .line-numbers.step-line-number');
}

/** The marked line is `line`: its number is marked, and the band over the text sits on that line. */
async function expectMarked(page: Page, line: number): Promise<void> {
  await expect(markedNumbers(page)).toHaveText([String(line)]);
  const band = page.locator('.monaco-editor .view-overlays .step-line');
  await expect(band).toHaveCount(1);
  // Read in one go: Monaco redraws its overlays as it scrolls (a tab just opened, a line revealed).
  await expect
    .poll(async () => {
      const box = await band.boundingBox();
      return box ? Math.abs(box.y - (await lineTop(page, line))) : Infinity;
    })
    .toBeLessThan(1);
}

async function expectUnmarked(page: Page): Promise<void> {
  await expect(markedNumbers(page)).toHaveCount(0);
  await expect(page.locator('.monaco-editor .step-line')).toHaveCount(0);
}

test('time travel marks the line that made the step, in the tab that made it', async ({ page }) => {
  await openLab(page);
  const tabs = page.getByTestId('tab');
  const active = page.locator('[data-testid=tab][aria-selected=true]');
  const steps = page.getByTestId('steps');
  const source = page.getByTestId('step-source');

  // helpers.ts in a second tab, the scenario in main.ts.
  await newTab(page);
  await setScript(page, HELPERS);
  await tabs.nth(1).dblclick();
  await page.getByTestId('tab-rename').fill('helpers.ts');
  await page.getByTestId('tab-rename').press('Enter');
  await expect(tabs.nth(1)).toContainText('helpers.ts');
  await tabs.first().click();
  await setScript(page, MAIN);
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  await expect(steps).toHaveText('steps 7');

  // The end of the run: nothing marked.
  await expectUnmarked(page);
  await expect(source).toHaveCount(0);

  // Step back to step 6, made in helpers.ts: main.ts stays open; the status bar says where.
  await page.keyboard.press('Shift+F10');
  await expect(steps).toHaveText('step 6 / 7');
  await expect(source).toHaveText('iommu_map · helpers.ts:3');
  await expect(active).toContainText('main.ts');
  await expectUnmarked(page);

  // Step 5 was made by line 8 of main.ts.
  await page.keyboard.press('Shift+F10');
  await expect(steps).toHaveText('step 5 / 7');
  await expect(source).toHaveText('iommu_map · main.ts:8');
  await expectMarked(page, 8);

  // F10 moves it on: to helpers.ts (nothing in main.ts), then to the end of the run, where it goes.
  await page.keyboard.press('F10');
  await expect(steps).toHaveText('step 6 / 7');
  await expectUnmarked(page);
  await page.keyboard.press('F10');
  await expect(steps).toHaveText('steps 7');
  await expectUnmarked(page);
  await expect(source).toHaveCount(0);

  // A trace row: step 4, the attach on line 7.
  await showPanel(page, 'trace');
  for (const k of ['return', 'pte', 'tlb', 'command', 'virtio', 'dma', 'fault', 'check'])
    await page.getByTestId(`trace-kind-${k}`).uncheck();
  await page.getByTestId('trace-search').fill('api_call');
  // One row per step once the search applies.
  await expect(page.getByTestId('trace-count')).toHaveText(/^7 of /);
  await page.getByTestId('trace-rows').locator('.row[data-step="4"]').first().click();
  await expect(steps).toHaveText('step 4 / 7');
  await expectMarked(page, 7);
  await page.keyboard.press('Shift+F10');
  await expect(steps).toHaveText('step 3 / 7');
  await expectMarked(page, 6);

  // Step 2 was lab.add_device: no line is recorded for the lab's own calls, and the query that
  // followed it on line 5 is not the step's.
  await page.keyboard.press('Shift+F10');
  await expect(steps).toHaveText('step 2 / 7');
  await expect(source).toHaveText('lab.add_device · no line recorded');
  await expectUnmarked(page);

  // Step 6 again; the status bar's link opens helpers.ts, marked on its line 3.
  await page.getByTestId('trace-rows').locator('.row[data-step="6"]').first().click();
  await expect(steps).toHaveText('step 6 / 7');
  await expectUnmarked(page);
  await source.click();
  await expect(active).toContainText('helpers.ts');
  await expectMarked(page, 3);
  await tabs.first().click();
  await expect(active).toContainText('main.ts');

  // A new run removes it (the panels are at its end)…
  await page.getByTestId('trace-rows').locator('.row[data-step="5"]').first().click();
  await expectMarked(page, 8);
  await runScript(page);
  await expect(steps).toHaveText('steps 7');
  await expectUnmarked(page);
  await expect(source).toHaveCount(0);

  // …and so does an edit: the run's lines no longer match the text, stepping marks nothing.
  await page.keyboard.press('Shift+F10');
  await page.keyboard.press('Shift+F10');
  await expect(steps).toHaveText('step 5 / 7');
  await expectMarked(page, 8);
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.insertText('// edited\n');
  await expectUnmarked(page);
  await expect(source).toHaveText('iommu_map · edited since the run');
  await page.keyboard.press('Shift+F10');
  await expect(steps).toHaveText('step 4 / 7');
  await expect(source).toHaveText('iommu_attach_device · edited since the run');
  await expectUnmarked(page);
});
