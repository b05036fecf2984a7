import { expect, test } from '@playwright/test';
import { consoleRows, openLab, runScript, setScript } from './lab.ts';

test('tabs: new, rename, switch, close — each keeps its own text', async ({ page }) => {
  await openLab(page);
  const tabs = page.getByTestId('tab');
  await expect(tabs).toHaveCount(1);
  await expect(tabs.first()).toContainText('main.ts');

  await page.getByTestId('tab-new').click();
  await expect(tabs).toHaveCount(2);
  await setScript(page, "console.log('from the second tab');\n");

  // Rename by double-click; a bad name is refused, a good one sticks.
  await tabs.nth(1).dblclick();
  const input = page.getByTestId('tab-rename');
  await input.fill('bad name');
  await input.press('Enter');
  await expect(input).toHaveAttribute('aria-invalid', 'true');
  await input.fill('second.ts');
  await input.press('Enter');
  await expect(tabs.nth(1)).toContainText('second.ts');

  // The renamed tab still has its text and runs under its new name. The Enter that renamed it
  // typed nothing into it: the line is still line 1.
  await runScript(page);
  await expect(consoleRows(page).filter({ hasText: 'from the second tab' })).toHaveCount(1);
  await expect(consoleRows(page).filter({ hasText: 'from the second tab' }).locator('.loc')).toHaveText(
    /^second\.ts:1:/,
  );
  await expect(consoleRows(page).first()).toContainText('second.ts');

  // Switching back shows the first script.
  await tabs.first().click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('lab.add_iommu');

  // Closing the second asks first: its text is not in a saved session. Cancel keeps it.
  await tabs.nth(1).hover();
  await tabs.nth(1).getByTestId('tab-close').click();
  const dialog = page.getByTestId('session-dialog');
  await expect(page.getByTestId('session-dialog-message')).toContainText(
    'second.ts has text that is not in a saved session',
  );
  await dialog.getByTestId('session-dialog-cancel').click();
  await expect(tabs).toHaveCount(2);
  await tabs.nth(1).click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('from the second tab');
  // Confirmed, it goes, leaving one tab, which cannot be closed.
  await tabs.nth(1).getByTestId('tab-close').click();
  await dialog.getByTestId('session-dialog-close').click();
  await expect(tabs).toHaveCount(1);
  await expect(page.getByTestId('tab-close')).toHaveCount(0);
});

test('closing a new tab nothing was typed in asks nothing', async ({ page }) => {
  await openLab(page);
  const tabs = page.getByTestId('tab');
  await page.getByTestId('tab-new').click();
  await expect(tabs).toHaveCount(2);
  // It holds the new-tab template only: nothing to lose.
  await tabs.nth(1).getByTestId('tab-close').click();
  await expect(tabs).toHaveCount(1);
  await expect(page.getByTestId('session-dialog')).toHaveCount(0);
});

test('tabs survive a reload', async ({ page }) => {
  await openLab(page);
  await page.getByTestId('tab-new').click();
  await setScript(page, "console.log('kept');\n");
  await page.waitForTimeout(600);
  await page.reload();
  await expect(page.getByTestId('tab')).toHaveCount(2);
  await page.getByTestId('tab').nth(1).click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText("console.log('kept')");
});

test('a refused rename says why under the field; leaving the field keeps a good name and says why not a bad one', async ({
  page,
}) => {
  await openLab(page);
  const tabs = page.getByTestId('tab');
  await page.getByTestId('tab-new').click();
  await page.getByTestId('tab-new').click();
  await expect(tabs.nth(2)).toContainText('scratch-3.ts');

  await tabs.nth(2).dblclick();
  const input = page.getByTestId('tab-rename');
  const why = page.getByTestId('tab-rename-error');
  await input.fill('scratch-2.ts');
  await input.press('Enter');
  await expect(why).toHaveText('scratch-2.ts is already open');
  // On screen, right under the field, not only in its tooltip.
  await expect(why).toBeInViewport();
  const field = (await input.boundingBox())!;
  const box = (await why.boundingBox())!;
  expect(box.y).toBeGreaterThanOrEqual(field.y + field.height);
  expect(box.x).toBeLessThan(field.x + field.width);
  expect(box.x + box.width).toBeGreaterThan(field.x);

  await input.fill('helpers');
  await input.press('Enter');
  await expect(why).toContainText('a name like helpers.ts');
  // Clicking away from a refused name: the tab keeps its name and the status bar says why.
  await page.locator('.monaco-editor .view-lines').click();
  await expect(input).toHaveCount(0);
  await expect(why).toHaveCount(0);
  await expect(tabs.nth(2)).toContainText('scratch-3.ts');
  await expect(page.getByTestId('notice')).toContainText(
    'scratch-3.ts was not renamed to helpers: a name like helpers.ts',
  );

  // Clicking away from a good name renames, as Enter does; Escape leaves the name as it was.
  await tabs.nth(2).dblclick();
  await input.fill('third.ts');
  await page.locator('.monaco-editor .view-lines').click();
  await expect(tabs.nth(2)).toContainText('third.ts');
  await tabs.nth(2).dblclick();
  await input.fill('fourth.ts');
  await input.press('Escape');
  await expect(tabs.nth(2)).toContainText('third.ts');
});

test('the active tab is scrolled into view after a reload and when a console link switches to one off to the side', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await openLab(page);
  await setScript(page, "export function hello() { console.log('from main'); }\n");
  const tabs = page.getByTestId('tab');
  const active = page.locator('[data-testid=tab][aria-selected=true]');
  for (let n = 2; n <= 25; n++) await page.getByTestId('tab-new').click();
  await expect(active).toContainText('scratch-25.ts');
  await setScript(page, "import { hello } from './main.ts';\nhello();\n");
  await expect(tabs.first()).not.toBeInViewport();

  await page.reload();
  await expect(page.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
  await expect(tabs).toHaveCount(25);
  await expect(active).toContainText('scratch-25.ts');
  await expect(active).toBeInViewport();
  await expect(page.getByTestId('tab-new')).toBeInViewport();

  // The console's link to a line of main.ts brings that tab to the front and into view.
  await runScript(page);
  const row = consoleRows(page).filter({ hasText: 'from main' });
  await expect(row.locator('.loc')).toContainText('main.ts:1');
  await row.locator('.loc').click();
  await expect(active).toContainText('main.ts');
  await expect(active).toBeInViewport();
});

test('tabs kept by the browser keep a folder in their name', async ({ page }) => {
  // What this browser tab's earlier load left (there is no session to reopen in a new profile).
  const kept = [
    { name: 'main.ts', source: "import { ONE } from './lib/y.ts';\nconsole.log(ONE);\n" },
    { name: 'lib/y.ts', source: 'export const ONE = 1;\n' },
  ];
  await page.addInitScript(
    `sessionStorage.getItem('iommu-lab.tabs.v1') ?? sessionStorage.setItem('iommu-lab.tabs.v1', ${JSON.stringify(JSON.stringify(kept))});`,
  );
  await openLab(page);
  const tabs = page.getByTestId('tab');
  await expect(tabs).toHaveCount(2);
  await expect(tabs.nth(1)).toContainText('lib/y.ts');
  await tabs.nth(1).click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('export const ONE = 1;');
});
