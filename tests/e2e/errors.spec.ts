import { expect, test } from '@playwright/test';
import { consoleRows, lineTop, newTab, openLab, runScript, setScript } from './lab.ts';

test('a syntax error is reported at its line, in the console and in the editor', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(
    page,
    ["import { lab } from 'iommu-lab';", '', 'const = 5;', "console.log('unreached');", ''].join('\n'),
  );
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('error');
  const err = consoleRows(page).filter({ hasText: /SyntaxError/ });
  await expect(err).toHaveCount(1);
  await expect(err.locator('.loc')).toContainText(/scratch-\d+\.ts:3/);
  await expect(consoleRows(page).filter({ hasText: 'unreached' })).toHaveCount(0);
  // The squiggle sits on line 3.
  const squiggle = page.locator('.monaco-editor .squiggly-error').first();
  await expect(squiggle).toBeVisible();
  const box = await squiggle.boundingBox();
  const top3 = await lineTop(page, 3);
  expect(Math.abs((box?.y ?? 0) - top3)).toBeLessThan(19);
});

/** A script that TypeScript accepts and that throws at run time, on line 3. */
const THROWS_ON_LINE_3 = [
  'const a = 1;',
  'function boom(): never {',
  "  throw new Error('kaboom');",
  '}',
  'boom();',
  '',
].join('\n');

test('an exception thrown by the script points at the throwing line', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, THROWS_ON_LINE_3);
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('error');
  const err = consoleRows(page).filter({ hasText: 'kaboom' });
  await expect(err.locator('.loc')).toContainText(/:3/);
});

test("an error's marker goes at the first edit after the run; the console keeps the error", async ({
  page,
}) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, THROWS_ON_LINE_3);
  await runScript(page);
  const squiggle = page.locator('.monaco-editor .squiggly-error');
  await expect(squiggle.first()).toBeVisible();
  // Replace the text with a script that has no error: nothing stays underlined.
  await setScript(page, ['const a = 1;', 'console.log(a);', ''].join('\n'));
  await page.waitForTimeout(2500); // the TypeScript worker's own diagnostics come and go first
  await expect(squiggle).toHaveCount(0);
  await expect(consoleRows(page).filter({ hasText: 'kaboom' })).toHaveCount(1);
});
