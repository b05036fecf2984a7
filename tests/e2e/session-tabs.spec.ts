/**
 * Two browser tabs of the lab: each keeps its unsaved work in its own autosave slot, a new tab gets
 * back only the work of tabs that have been closed (never that of a tab still open), and work that
 * an older lab autosaved in its one shared slot comes back once.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { openLab, setScript } from './lab.ts';

const editorText = (page: Page) => page.locator('.monaco-editor .view-lines');

/** Every autosave slot's text (the old shared slot's too). */
const slots = (page: Page) =>
  page.evaluate<string>(`Object.keys(localStorage)
    .filter((k) => k.startsWith('iommu-lab.session.autosave'))
    .map((k) => localStorage.getItem(k))
    .join('\\n')`);

const LEGACY = 'iommu-lab.session.autosave.v1';

/** A new tab of the lab, once its session has started (the title is set then). */
async function newLabTab(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await openLab(page);
  await expect(page).toHaveTitle(/ — IOMMU Lab$/);
  return page;
}

async function type(page: Page, text: string): Promise<void> {
  await setScript(page, `console.log('${text}');\n`);
  await expect.poll(() => slots(page), { timeout: 10_000 }).toContain(text);
}

test('each tab keeps its own unsaved work, and a new tab gets back only the work of closed tabs', async ({
  context,
  page: a,
}) => {
  test.setTimeout(120_000);
  // A's session start-up waits on storage (slow on a loaded machine): held back here. Text typed
  // before it ends would be replaced by what it puts in the editor (or, on a first visit, was taken
  // as the saved state another tab reopened), so the editor refuses typing until then.
  await a.addInitScript(`{
    const request = navigator.locks.request.bind(navigator.locks);
    navigator.locks.request = (...args) => new Promise((r) => setTimeout(r, 1500)).then(() => request(...args));
  }`);
  await a.goto('/');
  await expect(editorText(a)).toBeVisible();
  await setScript(a, "console.log('typed too early');\n");
  await expect(a).not.toHaveTitle(/ — IOMMU Lab$/); // still starting: the keys were refused
  await expect(editorText(a)).not.toContainText('typed too early');
  await expect(a).toHaveTitle(/ — IOMMU Lab$/, { timeout: 30_000 });
  await type(a, 'work of tab A');
  await expect(a).toHaveTitle(/^● /);

  // B opens while A is open: A's work stays A's, and B says nothing of a crash.
  const b = await newLabTab(context);
  await b.waitForTimeout(300);
  await expect(b.getByTestId('session-recovery')).toHaveCount(0);
  await expect(editorText(b)).not.toContainText('work of tab A');
  await type(b, 'work of tab B');
  // Neither wrote over the other.
  expect(await slots(a)).toContain('work of tab A');

  // B is closed without saving: the next new tab gets B's work back, not A's (A is still open).
  await b.close();
  const c = await newLabTab(context);
  await expect(c.getByTestId('session-recovery')).toContainText('from a tab of the lab that has been closed');
  await expect(editorText(c)).toContainText('work of tab B');
  await expect(editorText(a)).toContainText('work of tab A');

  // A is closed too: its work comes back in the next tab.
  await a.close();
  const d = await newLabTab(context);
  await expect(d.getByTestId('session-recovery')).toBeVisible();
  await expect(editorText(d)).toContainText('work of tab A');

  // Each piece of work came back once: a further tab has nothing to restore.
  const e = await newLabTab(context);
  await e.waitForTimeout(300);
  await expect(e.getByTestId('session-recovery')).toHaveCount(0);
  await expect(editorText(c)).toContainText('work of tab B');

  // A reload keeps a tab's own work, not another's.
  await d.reload();
  await expect(d.getByTestId('session-recovery')).toBeVisible({ timeout: 30_000 });
  await expect(editorText(d)).toContainText('work of tab A');
});

test('two closed tabs: the newest work comes back first, and the banner says more is kept', async ({
  context,
  page,
}) => {
  test.setTimeout(120_000);
  await openLab(page);
  const x = await newLabTab(context);
  await type(x, 'older work');
  const y = await newLabTab(context);
  await type(y, 'newer work');
  await x.close();
  await y.close();
  const first = await newLabTab(context);
  await expect(editorText(first)).toContainText('newer work');
  await expect(first.getByTestId('session-recovery-more')).toContainText(
    '1 more closed tab left unsaved work',
  );
  const second = await newLabTab(context);
  await expect(editorText(second)).toContainText('older work');
  await expect(second.getByTestId('session-recovery-more')).toHaveCount(0);
});

test('work an older lab autosaved in its one shared slot is restored once', async ({ context, page }) => {
  await openLab(page);
  // This tab's session has started: the old slot, put in now, is left for the next tab.
  await expect(page).toHaveTitle(/ — IOMMU Lab$/);
  const content = JSON.stringify({
    $schema: 'urn:iommu-lab:session:2',
    formatVersion: 2,
    kernel: 'v6.16',
    seed: 0,
    params: {},
    disabledChecks: [],
    activeScript: 'main.ts',
    scripts: [{ name: 'main.ts', source: "console.log('from the old slot');\n" }],
    notes: '',
  });
  const old = JSON.stringify({ name: 'old.iommulab', content, savedAt: Date.now() });
  await page.evaluate(`localStorage.setItem('${LEGACY}', ${JSON.stringify(old)})`);
  const next = await newLabTab(context);
  await expect(next.getByTestId('session-recovery')).toContainText('old.iommulab');
  await expect(editorText(next)).toContainText('from the old slot');
  expect(await next.evaluate(`localStorage.getItem('${LEGACY}')`)).toBeNull();
  const after = await newLabTab(context);
  await after.waitForTimeout(300);
  await expect(after.getByTestId('session-recovery')).toHaveCount(0);
});
