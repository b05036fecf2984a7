import { expect, test } from '@playwright/test';
import { openLab, runScript } from './lab.ts';
import { openScenario, showPanel, stepIndicator } from './panels.ts';

test('the checks panel lists a fired rule with its step, opens its doc page and seeks there', async ({
  page,
}) => {
  await openLab(page);
  await openScenario(page, 'unmap-hole.ts');
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  await showPanel(page, 'checks');
  await expect(page.getByTestId('checks-count')).toHaveText('1 check fired');
  const row = page.getByTestId('checks-fired').locator('li[data-check="unmap-of-hole"]');
  await expect(row).toContainText('stopped at 0x2000');
  await expect(row.getByTestId('check-step')).toHaveText('step 6');

  await row.getByTestId('check-id').click();
  const doc = page.getByTestId('check-doc');
  await expect(doc.locator('h3')).toHaveText('unmap-of-hole');
  await expect(doc).toContainText('Facts');
  await expect(doc).toContainText('IOMMU-FACTS §');

  const [, total] = await stepIndicator(page);
  await row.getByTestId('check-step').click();
  await expect(page.getByTestId('steps')).toHaveText(`step 6 / ${total}`);
  await expect(row.getByTestId('check-step')).toHaveClass(/current/);
  await expect(page.getByTestId('checks-count')).toHaveText('1 of 1 check fired by step 6');
  // One step back the rule has not fired yet: the panel says so, like every other panel.
  await page.keyboard.press('Shift+F10');
  await expect(page.getByTestId('steps')).toHaveText(`step 5 / ${total}`);
  await expect(page.getByTestId('checks-count')).toHaveText('0 of 1 check fired by step 5');
  await expect(row).toHaveClass(/later/);
});

test('a rule turned off is not checked in the next run', async ({ page }) => {
  await openLab(page);
  await openScenario(page, 'unmap-hole.ts');
  await runScript(page);
  await showPanel(page, 'checks');
  await expect(page.getByTestId('checks-count')).toHaveText('1 check fired');

  await page.getByTestId('checks-rules-toggle').click();
  const sw = page.getByTestId('check-switch-unmap-of-hole');
  await expect(sw).toBeChecked();
  // The switch is keyboard-operable: focus it and press Space.
  await sw.focus();
  await page.keyboard.press('Space');
  await expect(sw).not.toBeChecked();
  await expect(page.getByTestId('checks-rules').locator('li[data-rule="unmap-of-hole"]')).toHaveClass(/off/);

  await runScript(page);
  // The scenario itself expects the check, so without it the run fails — and nothing fired.
  await expect(page.getByTestId('outcome')).toHaveText('failed');
  await expect(page.getByTestId('checks-count')).toHaveText('0 checks fired');
  await expect(page.getByTestId('checks-fired')).toHaveCount(0);

  // On again: the next run has it back.
  await sw.check();
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  await expect(page.getByTestId('checks-count')).toHaveText('1 check fired');
});
