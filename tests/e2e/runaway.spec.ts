import { expect, test } from '@playwright/test';
import { consoleRows, newTab, openLab, runScript, setScript } from './lab.ts';

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
