import { expect, test } from '@playwright/test';
import { consoleRows, newTab, openLab, runScript, setScript } from './lab.ts';
import { panel } from './state.ts';

test('a runaway loop is ended by the time limit and the next run works', async ({ page }) => {
  test.setTimeout(90_000);
  await openLab(page);
  await newTab(page);
  await setScript(page, "console.log('spinning');\nwhile (true) {}\n");
  await runScript(page);
  await expect(page.getByTestId('outcome')).not.toHaveText('passed');
  await expect(page.getByTestId('console')).toContainText(/time limit|Timeout/i);
  await setScript(page, "console.log('alive again');\n");
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  await expect(consoleRows(page).filter({ hasText: 'alive again' })).toHaveCount(1);
});

test('Shift+F5 stops a running script at once and the engine comes back', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, 'while (true) {}\n');
  await page.keyboard.press('Control+Enter');
  await expect(page.getByTestId('stop')).toBeEnabled();
  await page.waitForTimeout(500);
  const t0 = Date.now();
  await page.keyboard.press('Shift+F5');
  await expect(page.getByTestId('outcome')).toHaveText('stopped');
  expect(Date.now() - t0).toBeLessThan(5000);
  await expect(page.getByTestId('notice')).toContainText('stopped');
  await expect(page.getByTestId('status')).toContainText('engine ready');
  await setScript(page, "console.log('after stop');\n");
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  await expect(consoleRows(page).filter({ hasText: 'after stop' })).toHaveCount(1);
});

test('Shift+F5 keeps what the run did up to where it was stopped: console, steps and panels', async ({
  page,
}) => {
  test.setTimeout(60_000);
  await openLab(page);
  await newTab(page);
  await setScript(
    page,
    [
      "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_map } from 'iommu-lab';",
      "const dev = lab.add_device('nic0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });",
      'const d = iommu_paging_domain_alloc(dev) as any;',
      'iommu_attach_device(d, dev);',
      'iommu_map(d, 0x10000, 0x8000_0000, 0x1000, 3);',
      "console.log('mapped, now spinning');",
      'while (true) {}',
    ].join('\n'),
  );
  await page.keyboard.press('Control+Enter');
  await expect(page.getByTestId('stop')).toBeEnabled();
  await page.waitForTimeout(1500); // past a progress report, so the steps made are known
  await page.keyboard.press('Shift+F5');
  await expect(page.getByTestId('outcome')).toHaveText('stopped');
  await expect(consoleRows(page).filter({ hasText: 'mapped, now spinning' })).toHaveCount(1);
  await expect(consoleRows(page).last()).toContainText('stopped at step 5');
  const card = panel(page, 'domains').locator('[data-testid=domain-card][data-domain="2"]');
  await expect(card).toContainText('1 range · 4 KiB');
});
