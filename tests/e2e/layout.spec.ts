import { expect, test } from '@playwright/test';
import { openLab } from './lab.ts';

test('the splitter resizes the panel column and the width is kept', async ({ page }) => {
  await openLab(page);
  const side = page.getByRole('complementary', { name: 'Panels' });
  const before = (await side.boundingBox())!.width;
  const handle = (await page.getByTestId('splitter').boundingBox())!;
  await page.mouse.move(handle.x + handle.width / 2, handle.y + 200);
  await page.mouse.down();
  await page.mouse.move(handle.x - 250, handle.y + 200, { steps: 8 });
  await page.mouse.up();
  const after = (await side.boundingBox())!.width;
  expect(after - before).toBeGreaterThan(200);
  await page.reload();
  await expect(page.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
  expect(Math.abs((await side.boundingBox())!.width - after)).toBeLessThan(4);
  // The keyboard moves it too.
  await page.getByTestId('splitter').focus();
  await page.keyboard.press('ArrowRight');
  expect((await side.boundingBox())!.width).toBeLessThan(after - 10);
});
