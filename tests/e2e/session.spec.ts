/**
 * Sessions in browser mode, as a user works with them: save (a download where the browser has no
 * File System Access API), reload and get the unsaved work back from autosave, open files with the
 * file picker, by keyboard and by dropping them, unsaved-change questions, and damaged files that
 * show their reason while the open session stays as it was. Nothing in a file is ever taken as HTML.
 */
import { expect, test, type FileChooser, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleRows, openLab, runScript, setScript } from './lab.ts';
import { privateFile, withPickedHandles } from './picked-files.ts';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../engine/session/fixtures');
const fixture = (name: string): string => path.join(FIXTURES, name);
type FilePayload = Exclude<Parameters<FileChooser['setFiles']>[0], string | string[] | readonly unknown[]>;

/** Without the File System Access API the lab saves by download and opens with a file input. */
async function withoutFsAccess(page: Page): Promise<void> {
  await page.addInitScript('delete window.showSaveFilePicker; delete window.showOpenFilePicker;');
}

const editorText = (page: Page) => page.locator('.monaco-editor .view-lines');
const tabNames = async (page: Page) =>
  (await page.getByTestId('tab').allInnerTexts()).map((t) => t.replace(/×/g, '').trim());

/**
 * The files the page's next file pickers get. Playwright takes over the picker only once a listener
 * is in place, so it is installed before the page loads (a picker opened before that would simply be
 * cancelled by the headless browser).
 */
function pickerFiles(page: Page): (file: string | FilePayload) => Promise<void> {
  const waiting: { file: string | FilePayload; done: () => void }[] = [];
  page.on('filechooser', (chooser) => {
    const next = waiting.shift();
    if (next) void chooser.setFiles(next.file).then(next.done);
  });
  return (file) => new Promise<void>((done) => waiting.push({ file, done }));
}

/**
 * Open a file through Ctrl+O and the file picker. A browser opens its picker only right after a user
 * gesture; when it does not count the key press as one, the lab asks for one click first.
 */
async function openWithPicker(
  page: Page,
  pick: ReturnType<typeof pickerFiles>,
  file: string | FilePayload,
): Promise<void> {
  const picked = pick(file);
  await page.keyboard.press('Control+O');
  const button = page.getByTestId('session-dialog-pick');
  const clicked = button
    .waitFor({ timeout: 3000 })
    .then(() => button.click())
    .catch(() => {});
  await picked;
  await clicked;
}

test('save downloads the session, a reload offers the unsaved work back, discard returns to the saved one, going on keeps it', async ({
  page,
}) => {
  await withoutFsAccess(page);
  await openLab(page);
  await expect(page.getByTestId('session-name')).toContainText('untitled.iommulab');
  await expect(page.getByTestId('session-dirty')).toHaveCount(0);

  await setScript(page, "console.log('saved version');\n");
  await expect(page.getByTestId('session-dirty')).toBeVisible();
  await expect(page).toHaveTitle('● untitled.iommulab — IOMMU Lab');

  const download = page.waitForEvent('download');
  await page.keyboard.press('Control+S');
  const file = await (await download).path();
  expect((await download).suggestedFilename()).toBe('untitled.iommulab');
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  expect(saved).toMatchObject({
    $schema: 'urn:iommu-lab:session:2',
    formatVersion: 2,
    activeScript: 'main.ts',
  });
  expect(saved.scripts).toEqual([{ name: 'main.ts', source: "console.log('saved version');\n" }]);
  expect(readFileSync(file, 'utf8').endsWith('}\n')).toBe(true);
  await expect(page.getByTestId('session-dirty')).toHaveCount(0);
  await expect(page.getByTestId('notice')).toContainText('saved untitled.iommulab');

  // Unsaved work, then the page goes away (the browser's question is accepted).
  await setScript(page, "console.log('unsaved work');\n");
  await expect(page.getByTestId('session-dirty')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
  await expect(page.getByTestId('session-recovery')).toContainText('Unsaved changes to untitled.iommulab');
  // A reload is not a crash, and the lab cannot tell them apart: the banner names neither.
  await expect(page.getByTestId('session-recovery')).toContainText(
    'before the lab was last closed or reloaded',
  );
  await expect(page.getByTestId('session-recovery')).not.toContainText('did not close cleanly');
  await expect(editorText(page)).toContainText("console.log('unsaved work')");
  await expect(page.getByTestId('session-dirty')).toBeVisible();
  await page.getByTestId('session-recovery-keep').click();
  await expect(page.getByTestId('session-recovery')).toHaveCount(0);
  await expect(editorText(page)).toContainText("console.log('unsaved work')");
  await expect(page.getByTestId('session-dirty')).toBeVisible();

  // Once more, and this time discard: back to what was saved.
  await page.reload();
  await expect(page.getByTestId('session-recovery')).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('session-recovery-discard').click();
  await expect(editorText(page)).toContainText("console.log('saved version')");
  await expect(page.getByTestId('session-dirty')).toHaveCount(0);

  // Nothing unsaved: a reload reopens the session without a question.
  await page.reload();
  await expect(page.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
  await expect(editorText(page)).toContainText("console.log('saved version')");
  await page.waitForTimeout(500);
  await expect(page.getByTestId('session-recovery')).toHaveCount(0);

  // Going on working settles the question as Keep: a Discard later would throw the new work away.
  await setScript(page, "console.log('unsaved again');\n");
  await page.reload();
  await expect(page.getByTestId('session-recovery')).toBeVisible({ timeout: 30_000 });
  await setScript(page, "console.log('went on after the restore');\n");
  await expect(page.getByTestId('session-recovery')).toHaveCount(0);
  await expect(page.getByTestId('notice')).toContainText(
    'kept the restored changes to untitled.iommulab (you went on working)',
  );
  await expect(editorText(page)).toContainText('went on after the restore');
  // So does a save.
  await page.reload();
  await expect(page.getByTestId('session-recovery')).toBeVisible({ timeout: 30_000 });
  const again = page.waitForEvent('download');
  await page.keyboard.press('Control+S');
  expect(readFileSync(await (await again).path(), 'utf8')).toContain('went on after the restore');
  await expect(page.getByTestId('session-recovery')).toHaveCount(0);
});

test('open a session with the picker: its tabs, kernel, seed, params and notes, and a run with them', async ({
  page,
}) => {
  await withoutFsAccess(page);
  const pick = pickerFiles(page);
  await openLab(page);
  await openWithPicker(page, pick, fixture('example.iommulab'));
  await expect(page.getByTestId('session-name')).toContainText('example.iommulab');
  expect(await tabNames(page)).toEqual(['main.ts', 'helpers.ts']);
  await expect(page.getByTestId('kernel')).toHaveValue('v6.16');
  await expect(page.getByTestId('session-dirty')).toHaveCount(0);
  // Its layout is from an older renderer: the default layout is used, with a warning, and the load goes on.
  await expect(page.getByTestId('notice')).toContainText(
    "the session's panel layout could not be used; the default layout is shown",
  );
  await page.getByTestId('session-name').click();
  await expect(page.getByTestId('session-seed')).toHaveValue('7');
  await expect(page.getByTestId('session-notes')).toHaveValue(/Two tabs: main\.ts builds on helpers\.ts\./);
  await expect(page.getByTestId('session-settings')).toContainText('driver');
  await page.keyboard.press('Escape');
  await page.getByTestId('tab').first().click();

  // The run uses the session's seed and params: the same numbers as `iommu-lab run example.iommulab`.
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  await expect(consoleRows(page).filter({ hasText: 'kernel v6.16 random 0.011704753153026104' })).toHaveCount(
    1,
  );
});

test('a damaged file shows its reason and the open session stays as it was', async ({ page }) => {
  await withoutFsAccess(page);
  const pick = pickerFiles(page);
  await openLab(page);
  await setScript(page, "console.log('my work');\n");
  await expect(page.getByTestId('session-dirty')).toBeVisible();

  const damaged: [string, string][] = [
    ['wrong-type.iommulab', 'scripts[1].source must be a string (found 42)'],
    ['truncated.iommulab', 'the file is truncated: it ends inside a string (line 16)'],
    ['future-version.iommulab', 'made by a newer IOMMU Lab: formatVersion 7, this lab reads up to 2'],
    ['not-json.iommulab', "not valid JSON at line 1, column 1: 'I' where a value should be"],
  ];
  for (const [file, reason] of damaged) {
    // Unsaved work first: the lab asks; opening anyway still must not lose it when the file is bad.
    const picked = pick(fixture(`damaged/${file}`));
    await page.keyboard.press('Control+O');
    await expect(page.getByTestId('session-dialog')).toHaveAttribute('data-kind', 'unsaved');
    await page.getByTestId('session-dialog-discard').click();
    await picked;
    const dialog = page.getByTestId('session-dialog');
    await expect(dialog).toHaveAttribute('data-kind', 'load-error');
    await expect(dialog).toContainText(`Could not open ${file}`);
    await expect(page.getByTestId('session-dialog-message')).toContainText(reason);
    await expect(dialog).toContainText('The open session is unchanged.');
    await page.getByTestId('session-dialog-ok').click();
    await expect(dialog).toHaveCount(0);
    expect(await tabNames(page)).toEqual(['main.ts']);
    await expect(editorText(page)).toContainText("console.log('my work')");
    await expect(page.getByTestId('session-name')).toContainText('untitled.iommulab');
    await expect(page.getByTestId('session-dirty')).toBeVisible();
  }
});

test('unsaved changes are asked about before New replaces them; Cancel keeps them', async ({ page }) => {
  await openLab(page);
  await setScript(page, "console.log('draft');\n");
  await expect(page.getByTestId('session-dirty')).toBeVisible();
  await page.getByTestId('session-new').click();
  await expect(page.getByTestId('session-dialog')).toContainText('Save the changes to untitled.iommulab');
  await page.getByTestId('session-dialog-cancel').click();
  await expect(editorText(page)).toContainText("console.log('draft')");

  await page.keyboard.press('Control+N');
  await page.getByTestId('session-dialog-discard').click();
  await expect(editorText(page)).toContainText('One Arm SMMUv3 with a PCI NIC');
  await expect(page.getByTestId('session-dirty')).toHaveCount(0);
  await expect(page.getByTestId('notice')).toContainText('new session');
});

test('a session file dropped on the window opens; other files are refused with a reason', async ({
  page,
}) => {
  await openLab(page);
  // What the browser does when a file is dropped: dragover, then drop, with the file in a DataTransfer.
  const drop = (name: string, text: string) =>
    page.evaluate(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([${JSON.stringify(text)}], ${JSON.stringify(name)}, { type: 'application/json' }));
      const target = document.querySelector('.monaco-editor') ?? document.body;
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    })()`);
  await drop('notes.txt', 'hello');
  await expect(page.getByTestId('session-dialog')).toContainText(
    'only session files (.iommulab) can be dropped here',
  );
  await page.getByTestId('session-dialog-ok').click();

  await drop('v1-full.iommulab', readFileSync(fixture('v1-full.iommulab'), 'utf8'));
  await expect(page.getByTestId('session-name')).toContainText('v1-full.iommulab');
  await expect(page.getByTestId('kernel')).toHaveValue('v6.6');
  await expect(editorText(page)).toContainText("expect(lab.kernel()).toBe('v6.6')");
  // An older format says it was migrated.
  await expect(page.getByTestId('notice')).toContainText('made with format 1; saving writes format 2');
});

test('session content is text, never HTML: notes, names and error messages', async ({ page }) => {
  await withoutFsAccess(page);
  const pick = pickerFiles(page);
  await openLab(page);
  await openWithPicker(page, pick, fixture('hostile.iommulab'));
  await expect(page.getByTestId('session-name')).toContainText('hostile.iommulab');
  await page.getByTestId('session-name').click();
  await expect(page.getByTestId('session-notes')).toHaveValue(
    '<img src=x onerror="globalThis.__ran = true">',
  );
  await page.keyboard.press('Escape');

  // A load error that quotes HTML from the file shows it as text.
  await openWithPicker(page, pick, {
    name: 'html.iommulab',
    mimeType: 'application/json',
    buffer: Buffer.from(
      JSON.stringify({
        formatVersion: 2,
        kernel: '<img src=x onerror="globalThis.__ran=true">',
        scripts: [{ name: 'a.ts', source: '' }],
      }),
    ),
  });
  await expect(page.getByTestId('session-dialog-message')).toContainText('kernel must be one of');
  await expect(page.getByTestId('session-dialog-message')).toContainText('<img src=x');
  await page.waitForTimeout(300);
  expect(await page.evaluate("document.querySelectorAll('img').length")).toBe(0);
  expect(await page.evaluate('globalThis.__ran')).toBeUndefined();
});

test('Save As asks again and Ctrl+Shift+S downloads under the session name', async ({ page }) => {
  await withoutFsAccess(page);
  const pick = pickerFiles(page);
  await openLab(page);
  await openWithPicker(page, pick, fixture('example.iommulab'));
  await expect(page.getByTestId('session-name')).toContainText('example.iommulab');
  const download = page.waitForEvent('download');
  await page.keyboard.press('Control+Shift+S');
  expect((await download).suggestedFilename()).toBe('example.iommulab');
  // What was saved is the opened session; only the layout is this window's (the file's older
  // layout could not be used and fell back to the default).
  const saved = JSON.parse(readFileSync(await (await download).path(), 'utf8'));
  const original = JSON.parse(readFileSync(fixture('example.iommulab'), 'utf8'));
  expect({ ...saved, layout: null }).toEqual({ ...original, layout: null });
  expect(saved.layout.version).toBe(2);
});

test('the session settings close on Escape as soon as a click opened them, and hide no tab bar control', async ({
  page,
}) => {
  await openLab(page);
  const name = page.getByTestId('session-name');
  const settings = page.getByRole('dialog', { name: 'Session settings' });
  const plus = page.getByTestId('tab-new');
  // Nothing lies over the centre of the tab bar's +: a click there reaches it.
  const plusReachable = () =>
    page.evaluate<boolean>(`(() => {
      const plus = document.querySelector('[data-testid=tab-new]');
      const b = plus.getBoundingClientRect();
      return plus.contains(document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2));
    })()`);

  for (const width of [1400, 760]) {
    await page.setViewportSize({ width, height: 700 });
    // Opened by a click, focus still on the name: Escape closes them and focus stays on the name.
    await name.click();
    await expect(settings).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(settings).toHaveCount(0);
    await expect(name).toBeFocused();
    // From inside them too, focus back on the name.
    await name.click();
    await page.getByTestId('session-seed').focus();
    await page.keyboard.press('Escape');
    await expect(settings).toHaveCount(0);
    await expect(name).toBeFocused();

    // Open, they are inside the window and the + is there: a click on it makes a tab and closes them.
    await name.click();
    const box = (await settings.boundingBox())!;
    expect(box.x, `${width}: left edge`).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width, `${width}: right edge`).toBeLessThanOrEqual(width);
    expect(await plusReachable(), `${width}: the + under the settings`).toBe(true);
    const tabs = await page.getByTestId('tab').count();
    await plus.click();
    await expect(page.getByTestId('tab')).toHaveCount(tabs + 1);
    await expect(settings).toHaveCount(0);
  }
});

test('a seed that is not a whole number in range is refused with a reason; the seed stays', async ({
  page,
}) => {
  await openLab(page);
  await page.getByTestId('session-name').click();
  const seed = page.getByTestId('session-seed');
  await seed.fill('42');
  await seed.press('Enter');
  await expect(page.getByTestId('session-seed-error')).toHaveCount(0);
  await seed.fill('1.5');
  await seed.press('Enter');
  await expect(page.getByTestId('session-seed-error')).toContainText(
    'the seed is a whole number from 0 to 4294967295 (got "1.5"); it stays 42',
  );
  await expect(seed).toHaveAttribute('aria-invalid', 'true');
  await seed.fill('7');
  await seed.press('Enter');
  await expect(page.getByTestId('session-seed-error')).toHaveCount(0);
});

/**
 * Ctrl+S once the edit shows as unsaved (the mark follows the editor a moment later), then the file's
 * text once it holds `text`: the browser moves its swap file over the file when the write closes.
 */
async function saveWithKeys(page: Page, name: string, text: string): Promise<void> {
  await expect(page.getByTestId('session-dirty')).toBeVisible();
  await page.keyboard.press('Control+S');
  await expect(page.getByTestId('session-dirty')).toHaveCount(0);
  await expect.poll(() => privateFile.read(page, name).catch(() => '')).toContain(text);
}

const recentNames = async (page: Page): Promise<string[]> => {
  await page.getByTestId('session-recent').click();
  await expect(page.getByTestId('session-recent-menu')).toBeVisible();
  const names = await page.getByTestId('session-recent-item').locator('.file').allInnerTexts();
  await page.keyboard.press('Escape');
  return names;
};

test('a failed Save As names the file picked, not the open session; the session and the editor stay', async ({
  page,
}) => {
  await withPickedHandles(page);
  await openLab(page);
  await privateFile.write(page, 'mine.iommulab', readFileSync(fixture('example.iommulab'), 'utf8'));
  await page.evaluate(`window.__picks.push('mine.iommulab')`);
  await page.getByTestId('session-open').click();
  await expect(page.getByTestId('session-name')).toContainText('mine.iommulab');

  // The save picker gives a file on a full disk.
  await page.evaluate(`window.showSaveFilePicker = async () => ({
    name: 'full.iommulab',
    async createWritable() { throw new DOMException('The disk is full', 'QuotaExceededError'); },
  })`);
  await setScript(page, "console.log('kept after a failed save');\n");
  await page.getByTestId('session-save-as').click();
  const dialog = page.getByTestId('session-dialog');
  await expect(dialog).toHaveAttribute('data-kind', 'save-error');
  await expect(dialog).toContainText('Could not save full.iommulab');
  await expect(page.getByTestId('session-dialog-message')).toHaveText(
    'could not save full.iommulab: the disk is full',
  );
  await page.getByTestId('session-dialog-ok').click();
  await expect(page.getByTestId('session-name')).toContainText('mine.iommulab');
  await expect(editorText(page)).toContainText("console.log('kept after a failed save')");
  await expect(page.getByTestId('session-dirty')).toBeVisible();
});

test('recent sessions: files opened with the picker are listed after a reload and reopen from the menu', async ({
  page,
}) => {
  await withPickedHandles(page);
  await openLab(page);
  await privateFile.write(page, 'example.iommulab', readFileSync(fixture('example.iommulab'), 'utf8'));
  await privateFile.write(page, 'v1-full.iommulab', readFileSync(fixture('v1-full.iommulab'), 'utf8'));

  await page.getByTestId('session-recent').click();
  await expect(page.getByTestId('session-recent-empty')).toBeVisible();
  await expect(page.getByTestId('session-recent-clear')).toBeDisabled();
  await page.keyboard.press('Escape');

  const pickAndOpen = async (name: string) => {
    await page.evaluate(`window.__picks.push(${JSON.stringify(name)})`);
    await page.getByTestId('session-open').click();
    await expect(page.getByTestId('session-name')).toContainText(name);
  };
  await pickAndOpen('example.iommulab');
  await pickAndOpen('example.iommulab'); // the same file again: still one entry
  await pickAndOpen('v1-full.iommulab');
  await expect.poll(() => recentNames(page)).toEqual(['v1-full.iommulab', 'example.iommulab']);

  await page.reload();
  await expect(page.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
  await expect(page.getByTestId('session-name')).toContainText('v1-full.iommulab');
  await expect.poll(() => recentNames(page)).toEqual(['v1-full.iommulab', 'example.iommulab']);
  // The reloaded session still knows its file: Save writes there without asking where (no pick queued).
  await setScript(page, "console.log('saved after a reload');\n");
  await saveWithKeys(page, 'v1-full.iommulab', 'saved after a reload');

  // By keyboard: the menu opens on the first item, arrows move, Enter opens.
  await page.getByTestId('session-recent').focus();
  await page.keyboard.press('Enter');
  const items = page.getByTestId('session-recent-item');
  await expect(items.first()).toBeFocused();
  await expect(items.first()).toContainText(/v1-full\.iommulab.*\d/);
  await page.keyboard.press('ArrowDown');
  await expect(items.nth(1)).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('session-name')).toContainText('example.iommulab');
  expect(await tabNames(page)).toEqual(['main.ts', 'helpers.ts']);
  await expect(page.getByTestId('kernel')).toHaveValue('v6.16');
  await expect(editorText(page)).toContainText('helpers');
  await expect.poll(() => recentNames(page)).toEqual(['example.iommulab', 'v1-full.iommulab']);

  // Save writes back to the reopened file.
  await setScript(page, "console.log('edited after reopening');\n");
  await saveWithKeys(page, 'example.iommulab', 'edited after reopening');

  // Permission refused (the user says no to the browser's question): the reason; the entry stays.
  await page.evaluate(`(() => {
    const proto = FileSystemHandle.prototype;
    window.__permission = [proto.queryPermission, proto.requestPermission];
    proto.queryPermission = async () => 'prompt';
    proto.requestPermission = async () => 'denied';
  })()`);
  await page.getByTestId('session-recent').click();
  await items.filter({ hasText: 'v1-full.iommulab' }).click();
  await expect(page.getByTestId('session-dialog-message')).toContainText(
    'the browser was not allowed to open it (permission refused); it stays in the recent list',
  );
  await page.getByTestId('session-dialog-ok').click();
  await expect(page.getByTestId('session-name')).toContainText('example.iommulab');
  await page.evaluate(`(() => {
    const proto = FileSystemHandle.prototype;
    [proto.queryPermission, proto.requestPermission] = window.__permission;
  })()`);
  await expect.poll(() => recentNames(page)).toEqual(['example.iommulab', 'v1-full.iommulab']);

  // A file that is gone: the reason, the entry leaves the list, and the open (unsaved) work stays.
  await privateFile.remove(page, 'v1-full.iommulab');
  await setScript(page, "console.log('unsaved work');\n");
  await expect(page.getByTestId('session-dirty')).toBeVisible();
  await page.getByTestId('session-recent').click();
  await items.filter({ hasText: 'v1-full.iommulab' }).click();
  await expect(page.getByTestId('session-dialog')).toHaveAttribute('data-kind', 'unsaved');
  await page.getByTestId('session-dialog-discard').click();
  const dialog = page.getByTestId('session-dialog');
  await expect(dialog).toHaveAttribute('data-kind', 'load-error');
  await expect(dialog).toContainText('Could not open v1-full.iommulab');
  await expect(page.getByTestId('session-dialog-message')).toContainText(
    'the file is no longer there (moved, renamed or deleted); it was taken off the recent list',
  );
  await expect(dialog).toContainText('The open session is unchanged.');
  await page.getByTestId('session-dialog-ok').click();
  await expect(page.getByTestId('session-name')).toContainText('example.iommulab');
  expect(await tabNames(page)).toEqual(['main.ts', 'helpers.ts']);
  await expect(editorText(page)).toContainText("console.log('unsaved work')");
  await expect(page.getByTestId('session-dirty')).toBeVisible();
  await expect.poll(() => recentNames(page)).toEqual(['example.iommulab']);

  // Save As through the save picker lists the new file first.
  await page.evaluate(`window.__picks.push('copy.iommulab')`);
  await page.getByTestId('session-save-as').click();
  await expect(page.getByTestId('session-name')).toContainText('copy.iommulab');
  await expect.poll(() => privateFile.read(page, 'copy.iommulab').catch(() => '')).toContain('unsaved work');
  await expect.poll(() => recentNames(page)).toEqual(['copy.iommulab', 'example.iommulab']);

  // Clear recent empties the list, for this visit and the next.
  await page.getByTestId('session-recent').click();
  await page.getByTestId('session-recent-clear').click();
  await page.reload();
  await expect(page.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
  await page.getByTestId('session-recent').click();
  await expect(page.getByTestId('session-recent-empty')).toBeVisible();
});

test('a tab name may have a folder, as a session file allows: rename to one, save it, open it again', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await withoutFsAccess(page);
  const pick = pickerFiles(page);
  await openLab(page);
  const tab = page.getByTestId('tab');
  const input = page.getByTestId('tab-rename');
  const rename = async (n: number, name: string): Promise<void> => {
    await tab.nth(n).dblclick();
    await input.fill(name);
    await input.press('Enter');
  };
  await page.getByTestId('tab-new').click();
  await setScript(page, 'export const ONE = 1;\n');
  await rename(1, 'lib/y.ts');
  await expect(input).toHaveCount(0);
  // The name of a scenario helper the lab keeps for the editor: the tab takes its place.
  await page.getByTestId('tab-new').click();
  await rename(2, 'lib/iova-window.ts');
  await expect(input).toHaveCount(0);
  expect(await tabNames(page)).toEqual(['main.ts', 'lib/y.ts', 'lib/iova-window.ts']);
  // What a session file refuses is refused here, with what a name may be.
  await rename(0, '../main.ts');
  await expect(page.getByTestId('tab-rename-error')).toHaveText(
    'a name like helpers.ts or lib/helpers.ts (letters, digits, _ . -, a / after a folder; ending .ts or .js)',
  );
  await input.press('Escape');

  const download = page.waitForEvent('download');
  await page.keyboard.press('Control+S');
  const file = await (await download).path();
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  expect(saved.scripts.map((s: { name: string }) => s.name)).toEqual([
    'main.ts',
    'lib/y.ts',
    'lib/iova-window.ts',
  ]);
  expect(saved.scripts[1].source).toBe('export const ONE = 1;\n');

  await page.keyboard.press('Control+N');
  await expect(page.getByTestId('notice')).toContainText('new session');
  expect(await tabNames(page)).toEqual(['main.ts']);
  await openWithPicker(page, pick, {
    name: 'folders.iommulab',
    mimeType: 'application/json',
    buffer: readFileSync(file),
  });
  await expect(page.getByTestId('session-name')).toContainText('folders.iommulab');
  expect(await tabNames(page)).toEqual(['main.ts', 'lib/y.ts', 'lib/iova-window.ts']);
  await tab.nth(1).click();
  await expect(editorText(page)).toContainText('export const ONE = 1;');
  await expect(page.getByTestId('session-dirty')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a session opens clean when the editor evens out its line endings or drops a BOM, and says so once', async ({
  page,
}) => {
  await withoutFsAccess(page);
  const pick = pickerFiles(page);
  await openLab(page);
  const scripts = [
    { name: 'crlf.ts', source: 'const a = 1;\r\nconst b = 2;\r\n' },
    { name: 'lf.ts', source: 'const a = 1;\nconst b = 2;\n' },
    { name: 'mixed.ts', source: 'const a = 1;\r\nconst b = 2;\nconst c = 3;\r\n' },
    { name: 'cr.ts', source: 'const a = 1;\rconst b = 2;\r' },
    { name: 'bom.ts', source: '\ufeffconst a = 1;\n' },
  ];
  const doc = { formatVersion: 2, activeScript: 'crlf.ts', scripts };
  await openWithPicker(page, pick, {
    name: 'endings.iommulab',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(doc)),
  });
  await expect(page.getByTestId('session-name')).toContainText('endings.iommulab');
  // Nothing was typed: nothing is unsaved.
  await page.waitForTimeout(500);
  await expect(page.getByTestId('session-dirty')).toHaveCount(0);
  await expect(page).toHaveTitle('endings.iommulab — IOMMU Lab');
  await expect(page.getByTestId('notice')).toContainText(
    'opened endings.iommulab; line endings of mixed.ts were normalised to CRLF; ' +
      'line endings of cr.ts were normalised to CRLF; the byte order mark at the start of bom.ts was dropped',
  );

  // Saved as the editor holds it; a file with one kind of line ending byte for byte.
  const download = page.waitForEvent('download');
  await page.keyboard.press('Control+S');
  const saved = JSON.parse(readFileSync(await (await download).path(), 'utf8'));
  expect(saved.scripts).toEqual([
    scripts[0],
    scripts[1],
    { name: 'mixed.ts', source: 'const a = 1;\r\nconst b = 2;\r\nconst c = 3;\r\n' },
    { name: 'cr.ts', source: 'const a = 1;\r\nconst b = 2;\r\n' },
    { name: 'bom.ts', source: 'const a = 1;\n' },
  ]);
});
