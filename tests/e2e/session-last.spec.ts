/**
 * The last session in the browser is each tab's own: a reload reopens the tab's own file, so its Save
 * writes there and never into the file another tab opened since; a new tab starts from the lab's
 * last session (its text and name) without the file, so its Save asks where. File System Access is
 * stood in for by handles from the origin-private file system, as in session.spec.ts.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { openLab, setScript } from './lab.ts';
import { privateFile, withPickedHandles } from './picked-files.ts';

const editorText = (page: Page) => page.locator('.monaco-editor .view-lines');

const session = (tag: string): string =>
  JSON.stringify({
    formatVersion: 2,
    kernel: 'v6.16',
    activeScript: 'main.ts',
    scripts: [{ name: 'main.ts', source: `console.log('${tag}');\n` }],
  });

/** Every autosave slot's text. */
const slots = (page: Page) =>
  page.evaluate<string>(`Object.keys(localStorage)
    .filter((k) => k.startsWith('iommu-lab.session.autosave'))
    .map((k) => localStorage.getItem(k))
    .join('\\n')`);

async function pickAndOpen(page: Page, name: string): Promise<void> {
  await page.evaluate(`window.__picks.push(${JSON.stringify(name)})`);
  await page.getByTestId('session-open').click();
  await expect(page.getByTestId('session-name')).toContainText(name);
}

/** Ctrl+S; when the browser wants a click before its picker, the lab's own button gives it one. */
async function pressSave(page: Page): Promise<void> {
  await expect(page.getByTestId('session-dirty')).toBeVisible();
  await page.keyboard.press('Control+S');
  const button = page.getByTestId('session-dialog-pick');
  await button
    .waitFor({ timeout: 1500 })
    .then(() => button.click())
    .catch(() => {});
}

async function newLabTab(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await openLab(page);
  await expect(page).toHaveTitle(/ — IOMMU Lab$/);
  return page;
}

test('a reloaded tab saves to its own file, not to the file another tab opened since', async ({
  context,
  page: a,
}) => {
  test.setTimeout(120_000);
  await withPickedHandles(context);
  await openLab(a);
  await privateFile.write(a, 'X.iommulab', session('file X'));
  await privateFile.write(a, 'Y.iommulab', session('file Y'));
  await pickAndOpen(a, 'X.iommulab');
  await setScript(a, "console.log('A unsaved edit of X');\n");
  await expect.poll(() => slots(a), { timeout: 10_000 }).toContain('A unsaved edit of X');

  const b = await newLabTab(context);
  await pickAndOpen(b, 'Y.iommulab');

  await a.reload();
  await expect(a.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
  await expect(a.getByTestId('session-recovery')).toBeVisible({ timeout: 30_000 });
  await expect(editorText(a)).toContainText('A unsaved edit of X');
  await expect(a.getByTestId('session-name')).toContainText('X.iommulab');

  // No pick is queued: Save writes to A's own file without asking.
  await editorText(a).click();
  await pressSave(a);
  await expect(a.getByTestId('session-dirty')).toHaveCount(0);
  await expect.poll(() => privateFile.read(a, 'X.iommulab')).toContain('A unsaved edit of X');
  await expect(a.getByTestId('session-name')).toContainText('X.iommulab');
  const y = await privateFile.read(a, 'Y.iommulab');
  expect(y).toContain('file Y');
  expect(y).not.toContain('A unsaved edit');
});

test("a new tab starts from the last session's text, but its Save asks where instead of writing that file", async ({
  context,
  page: a,
}) => {
  test.setTimeout(120_000);
  await withPickedHandles(context);
  await openLab(a);
  await privateFile.write(a, 'X.iommulab', session('file X'));
  await pickAndOpen(a, 'X.iommulab');

  const c = await newLabTab(context);
  await expect(editorText(c)).toContainText('file X');
  await expect(c.getByTestId('session-name')).toContainText('X.iommulab');
  await setScript(c, "console.log('C change');\n");

  // The picker asks (none queued: cancelled), with X's name suggested; X is untouched.
  await pressSave(c);
  await expect(c.getByTestId('notice')).toContainText('save canceled');
  expect(await c.evaluate('window.__suggested')).toEqual(['X.iommulab']);
  await expect(c.getByTestId('session-dirty')).toBeVisible();
  expect(await privateFile.read(c, 'X.iommulab')).toContain('file X');

  // Picking a place saves there.
  await c.evaluate(`window.__picks.push('C.iommulab')`);
  await pressSave(c);
  await expect(c.getByTestId('session-dirty')).toHaveCount(0);
  await expect.poll(() => privateFile.read(c, 'C.iommulab')).toContain('C change');
  const x = await privateFile.read(c, 'X.iommulab');
  expect(x).toContain('file X');
  expect(x).not.toContain('C change');
});
