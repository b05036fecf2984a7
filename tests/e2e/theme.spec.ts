import { expect, test } from '@playwright/test';
import { openLab } from './lab.ts';

test('theme: light, dark and follow-system; Monaco follows', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await openLab(page);
  const html = page.locator('html');
  const editor = page.locator('.monaco-editor').first();
  await expect(html).toHaveAttribute('data-theme', 'light');

  await page.getByTestId('theme').selectOption('dark');
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await expect(editor).toHaveClass(/vs-dark/);
  const darkBg = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');

  await page.getByTestId('theme').selectOption('light');
  await expect(html).toHaveAttribute('data-theme', 'light');
  await expect(editor).not.toHaveClass(/vs-dark/);
  expect(await page.evaluate<string>('getComputedStyle(document.body).backgroundColor')).not.toBe(darkBg);

  // Follow the system: switching the OS preference switches the lab.
  await page.getByTestId('theme').selectOption('system');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(html).toHaveAttribute('data-theme', 'light');

  // The choice is remembered.
  await page.getByTestId('theme').selectOption('dark');
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'dark');
});
