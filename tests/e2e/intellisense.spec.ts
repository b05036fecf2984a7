import { expect, test } from '@playwright/test';
import { newTab, openLab, setScript } from './lab.ts';

test('completions for the iommu-lab module come from its declaration file', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, "import { iommu_ma } from 'iommu-lab';\n");
  // Put the cursor right after `iommu_ma` and ask for completions.
  await page.keyboard.press('ControlOrMeta+Home');
  for (let i = 0; i < 'import { iommu_ma'.length; i++) await page.keyboard.press('ArrowRight');
  const suggest = page.locator('.suggest-widget');
  // The TypeScript worker loads lazily; ask again until it answers.
  await expect(async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Space');
    await expect(suggest.getByRole('option', { name: /iommu_map\b/ }).first()).toBeVisible({ timeout: 3000 });
  }).toPass({ timeout: 45_000 });
  await expect(suggest.getByRole('option', { name: /iommu_map_sg/ })).toBeVisible();
});

test('the editor type-checks calls against the lab API', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, "import { iommu_map } from 'iommu-lab';\niommu_map('not a domain');\n");
  // Line 2 gets a TypeScript squiggle (wrong argument type and count): a warning, as types do not
  // stop a run.
  await expect(page.locator('.monaco-editor .squiggly-warning').first()).toBeVisible({ timeout: 45_000 });
  await expect(page.locator('.monaco-editor .squiggly-error')).toHaveCount(0);
  // And a correct import of a real export has none on line 1.
  await setScript(
    page,
    "import { iommu_map, SZ_4K } from 'iommu-lab';\nconst n: number = SZ_4K;\nconsole.log(n, typeof iommu_map);\n",
  );
  await page.waitForTimeout(2500);
  await expect(page.locator('.monaco-editor .squiggly-error, .monaco-editor .squiggly-warning')).toHaveCount(
    0,
  );
});
