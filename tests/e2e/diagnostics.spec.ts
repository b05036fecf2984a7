/**
 * What the editor marks in a script, and how loudly. Scripts run whatever their types say, so
 * TypeScript's type complaints are warnings; what stops a run (a syntax error, an import of a tab
 * that is not there, the run's own error) is an error. An import of another open tab is never marked,
 * also right after a session brought both tabs in at once.
 */
import { expect, test, type FileChooser, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newTab, openLab, runScript, setScript } from './lab.ts';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../engine/session/fixtures');
type FilePayload = Exclude<Parameters<FileChooser['setFiles']>[0], string | string[] | readonly unknown[]>;

interface Problem {
  severity: string;
  message: string;
  code: string;
  /** `line:column` */
  at: string;
}

/**
 * Every marker on the active tab, read the way a user would: F8 steps through them and the editor's
 * problem widget says each one's severity, message, code and position.
 */
async function problems(page: Page): Promise<Problem[]> {
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('ControlOrMeta+Home');
  const widget = page.locator('.monaco-editor .marker-widget');
  const found = new Map<string, Problem>();
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press('F8');
    const shown = await widget.waitFor({ timeout: 2000 }).then(
      () => true,
      () => false,
    );
    if (!shown) break;
    const label = (await widget.locator('.message').getAttribute('aria-label')) ?? '';
    const m = /(Error|Warning|Info|Hint): ([\s\S]*) at (\d+:\d+)\. $/.exec(label);
    if (!m) throw new Error(`unexpected problem label: ${label}`);
    const code = ((await widget.locator('.code').allInnerTexts())[0] ?? '').replace(/[()]/g, '');
    const key = `${m[3]} ${code} ${m[2]}`;
    if (found.has(key)) break;
    found.set(key, { severity: m[1]!, message: m[2]!, code, at: m[3]! });
  }
  await page.keyboard.press('Escape');
  return [...found.values()];
}

/**
 * Open a session with Ctrl+O where the browser has no File System Access API: the lab's file input
 * opens the picker, and Playwright gives it `file`. Playwright takes the picker over only once a
 * listener is in place, so call this before the page loads; it returns the function that opens.
 */
function sessionOpener(page: Page): (file: string | FilePayload) => Promise<void> {
  const waiting: { file: string | FilePayload; done: () => void }[] = [];
  page.on('filechooser', (chooser) => {
    const next = waiting.shift();
    if (next) void chooser.setFiles(next.file).then(next.done);
  });
  return async (file) => {
    const chosen = new Promise<void>((done) => waiting.push({ file, done }));
    await page.keyboard.press('Control+O');
    // A browser opens its picker only right after a user gesture; the lab may ask for a click first.
    const button = page.getByTestId('session-dialog-pick');
    const clicked = button
      .waitFor({ timeout: 3000 })
      .then(() => button.click())
      .catch(() => {});
    await chosen;
    await clicked;
  };
}

/** A session file as the picker gives it: `scripts` as [name, source], the first one in front. */
function sessionFile(name: string, scripts: [string, string][]): FilePayload {
  const doc = {
    $schema: 'urn:iommu-lab:session:2',
    formatVersion: 2,
    activeScript: scripts[0]![0],
    scripts: scripts.map(([name, source]) => ({ name, source })),
  };
  return { name, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(doc)) };
}

/** The codes on the active tab that say an import cannot be resolved. */
async function importErrors(page: Page): Promise<string[]> {
  const found = await problems(page);
  return found.filter((p) => ['2305', '2307', '2724'].includes(p.code)).map((p) => `${p.at} ${p.code}`);
}

test("a session's tabs import each other without a marker; a missing tab's import is an error", async ({
  page,
}) => {
  await page.addInitScript('delete window.showSaveFilePicker; delete window.showOpenFilePicker;');
  const openSession = sessionOpener(page);
  await openLab(page);
  await openSession(path.join(FIXTURES, 'example.iommulab'));
  await expect(page.getByTestId('session-name')).toContainText('example.iommulab');
  const tab = page.getByTestId('tab');
  await expect(tab.first()).toContainText('main.ts');
  await expect(page.locator('[data-testid=tab][aria-selected=true]')).toContainText('main.ts');

  // main.ts passes a `IommuDomain | ErrPtr` on unchecked: TypeScript says so (a warning). Once that
  // is shown the worker has checked main.ts, and it must have seen helpers.ts while doing it.
  await expect
    .poll(async () => (await problems(page)).map((p) => p.code), { timeout: 45_000 })
    .toContain('2345');
  await page.waitForTimeout(1500);
  let found = await problems(page);
  expect(found.filter((p) => p.code === '2307')).toEqual([]);
  expect(found.find((p) => p.code === '2345')).toMatchObject({ severity: 'Warning', at: '6:28' });

  // Switching tabs and back changes nothing.
  await tab.nth(1).click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('export function machine');
  await tab.first().click();
  await page.waitForTimeout(1000);
  found = await problems(page);
  expect(found.filter((p) => p.code === '2307')).toEqual([]);

  // Another session with tabs of the same names: its main.ts is checked as its own text, not as the
  // main.ts it replaced (both new models, neither edited).
  const session = JSON.parse(readFileSync(path.join(FIXTURES, 'example.iommulab'), 'utf8'));
  session.scripts[0].source += 'const late: string = 1;\n';
  await openSession({
    name: 'example-2.iommulab',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(session)),
  });
  await expect(page.getByTestId('session-name')).toContainText('example-2.iommulab');
  await expect
    .poll(async () => (await problems(page)).map((p) => `${p.at} ${p.code}`), { timeout: 30_000 })
    .toContain('11:7 2322');
  found = await problems(page);
  expect(found.filter((p) => p.code === '2307')).toEqual([]);

  // An import of a tab that is not open is marked, as an error: that run would stop there.
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('ControlOrMeta+Home');
  await page.keyboard.insertText("import { nothing } from './nothere';\nconsole.log(nothing);\n");
  await expect
    .poll(async () => (await problems(page)).filter((p) => p.code === '2307'), { timeout: 30_000 })
    .toEqual([
      expect.objectContaining({
        severity: 'Error',
        at: '1:25',
        message: expect.stringContaining('./nothere'),
      }),
    ]);
  await expect(page.locator('.monaco-editor .squiggly-error')).toHaveCount(1);
});

test('type complaints are warnings; a syntax error is an error', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(
    page,
    [
      "import { lab, iommu_paging_domain_alloc, iommu_attach_device } from 'iommu-lab';",
      "const nic = lab.add_device('nic0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });",
      'const d = iommu_paging_domain_alloc(nic);',
      'iommu_attach_device(d, nic);',
      'const n: string = 5;',
      '',
    ].join('\n'),
  );
  await expect
    .poll(async () => (await problems(page)).map((p) => `${p.at} ${p.severity} ${p.code}`), {
      timeout: 45_000,
    })
    .toEqual(['4:21 Warning 2345', '5:7 Warning 2322']);
  await expect(page.locator('.monaco-editor .squiggly-warning')).toHaveCount(2);
  await expect(page.locator('.monaco-editor .squiggly-error')).toHaveCount(0);

  // The script runs and passes all the same.
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');

  // A syntax error stays an error.
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.insertText('const = 5;\n');
  await expect
    .poll(
      async () => [
        ...new Set((await problems(page)).filter((p) => p.at.startsWith('6:')).map((p) => p.severity)),
      ],
      { timeout: 30_000 },
    )
    .toEqual(['Error']);
  await expect(page.locator('.monaco-editor .squiggly-error').first()).toBeVisible();
});

test('a scenario helper a tab of a session stood in for is back for the import once that tab is gone', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await page.addInitScript('delete window.showSaveFilePicker; delete window.showOpenFilePicker;');
  const openSession = sessionOpener(page);
  await openLab(page);
  // The gallery's scenarios import the helper the lab gives every run as lib/iova-window.ts.
  const main =
    "import { iova_window } from './lib/iova-window.ts';\nconst late: string = 1;\nconsole.log(iova_window);\n";
  const helperOnly = sessionFile('helper-only.iommulab', [['main.ts', main]]);
  // A tab of the helper's name, which does not have the function main.ts imports.
  const ownTab = sessionFile('own-tab.iommulab', [
    ['main.ts', main],
    ['lib/iova-window.ts', 'export function other(): number {\n  return 0;\n}\n'],
  ]);
  const checked = async (): Promise<void> => {
    await expect
      .poll(async () => (await problems(page)).map((p) => `${p.at} ${p.code}`), { timeout: 45_000 })
      .toContain('2:7 2322');
  };

  await openSession(helperOnly);
  await expect(page.getByTestId('session-name')).toContainText('helper-only.iommulab');
  await checked();
  expect(await importErrors(page)).toEqual([]);

  await openSession(ownTab);
  await expect(page.getByTestId('session-name')).toContainText('own-tab.iommulab');
  await checked();
  await expect.poll(() => importErrors(page), { timeout: 30_000 }).not.toEqual([]);

  // Replaced by a session without that tab: the helper resolves the import again.
  await openSession(helperOnly);
  await expect(page.getByTestId('session-name')).toContainText('helper-only.iommulab');
  await checked();
  await page.waitForTimeout(1500);
  expect(await importErrors(page)).toEqual([]);

  // So does closing the tab that stood in for it.
  await openSession(ownTab);
  await expect(page.getByTestId('session-name')).toContainText('own-tab.iommulab');
  await expect.poll(() => importErrors(page), { timeout: 45_000 }).not.toEqual([]);
  // A tab shows its close button while it is in front.
  await page.getByTestId('tab').nth(1).click();
  await page.getByTestId('tab').nth(1).getByTestId('tab-close').click();
  await expect(page.getByTestId('tab')).toHaveCount(1);
  await expect.poll(() => importErrors(page), { timeout: 30_000 }).toEqual([]);
  await page.waitForTimeout(1500);
  expect(await importErrors(page)).toEqual([]);
  await expect(page.locator('.monaco-editor .squiggly-error')).toHaveCount(0);
});

test("a tab in a folder imports its neighbours as TypeScript does: './y' in lib/x.ts is lib/y.ts", async ({
  page,
}) => {
  await openLab(page);
  const input = page.getByTestId('tab-rename');
  const renameActive = async (name: string): Promise<void> => {
    await page.locator('[data-testid=tab][aria-selected=true]').dblclick();
    await input.fill(name);
    await input.press('Enter');
    await expect(input).toHaveCount(0);
  };
  await newTab(page);
  await setScript(page, 'export const ONE = 1;\n');
  await renameActive('lib/y.ts');
  await newTab(page);
  await setScript(page, "import { ONE } from './y';\nconst late: string = 1;\nexport const TWO = ONE * 2;\n");
  await renameActive('lib/x.ts');
  await expect
    .poll(async () => (await problems(page)).map((p) => `${p.at} ${p.code}`), { timeout: 45_000 })
    .toContain('2:7 2322');
  await page.waitForTimeout(1500);
  expect(await importErrors(page)).toEqual([]);

  // From lib/x.ts, './lib/y' is lib/lib/y.ts, which is not there.
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('ControlOrMeta+Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.insertText("import { ONE } from './lib/y';");
  await expect.poll(() => importErrors(page), { timeout: 30_000 }).toEqual(['1:21 2307']);
});
