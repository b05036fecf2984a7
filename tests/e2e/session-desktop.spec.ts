/**
 * The session code's desktop path in Chromium, without Electron: a stand-in for the preload's bridge
 * (`window.iommuLab`, with `session` answering as main would) records every message the page sends
 * main. What main does with them (dialogs, atomic writes, side files) is tested under Node in main/;
 * the real preload and main run in electron.spec.ts where an Electron binary exists.
 */
import { expect, test, type Page } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleRows, openLab, runScript, setScript } from './lab.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const example = readFileSync(path.join(root, 'engine/session/fixtures/example.iommulab'), 'utf8');
const v1 = readFileSync(path.join(root, 'engine/session/fixtures/v1-full.iommulab'), 'utf8');

function engineWorker(): string {
  const f = readdirSync(path.join(root, 'out/web/workers')).find((x) => /^engine-.*\.js$/.test(x));
  if (!f) throw new Error('no engine worker in out/web (tests/run-e2e.js builds it)');
  return `./workers/${f}`;
}

interface FakeMain {
  startup: unknown;
  files: Record<string, string>;
}

/**
 * The preload's bridge as main would answer it; everything the page sends is kept in window.__main.
 * Page code as text: this file is type-checked without the DOM.
 */
async function installFakeDesktop(page: Page, setup: FakeMain): Promise<void> {
  await page.addInitScript(`(() => {
    const setup = ${JSON.stringify(setup)};
    const main = {
      startup: setup.startup,
      files: setup.files,
      pending: null,
      saves: [],
      saveReply: null,
      openReply: null,
      opens: [],
      autosaves: [],
      states: [],
      recoveries: [],
      news: 0,
      closed: false,
      listener: null,
    };
    window.__main = main;
    let worker = null;
    const spawn = (reason) => {
      worker?.terminate();
      worker = new Worker(${JSON.stringify(engineWorker())}, { type: 'module' });
      const ch = new MessageChannel();
      worker.postMessage({ type: 'engine-port' }, [ch.port1]);
      window.postMessage({ source: 'iommu-lab', type: 'engine-port', reason }, '*', [ch.port2]);
    };
    const base = (p) => p.split('/').pop();
    const opened = (p) =>
      main.files[p] !== undefined
        ? { status: 'opened', path: p, name: base(p), text: main.files[p] }
        : { status: 'error', message: base(p) + ': the file does not exist (moved or deleted?)' };
    window.iommuLab = {
      platform: 'linux',
      versions: { app: '0.1.0', electron: '', chrome: '', node: '' },
      runtime: { sandboxed: true, contextIsolated: true },
      connectEngine: () => spawn('start'),
      restartEngine: () => spawn('stop'),
      onMenu: () => () => {},
      setThemeSource: () => {},
      session: {
        startup: async () => main.startup,
        open: async (req) => {
          main.opens.push(req);
          if (main.openReply) return main.openReply;
          if (req.kind === 'pending') {
            const p = main.pending;
            main.pending = null;
            return p ? opened(p) : { status: 'error', message: 'no file is waiting to be opened' };
          }
          if (req.kind === 'recent') return opened(req.path);
          return { status: 'canceled' };
        },
        save: async (req) => {
          main.saves.push(req);
          return main.saveReply ?? { status: 'saved', path: '/home/u/labs/lab.iommulab', name: 'lab.iommulab' };
        },
        recovery: async (req) => {
          main.recoveries.push(req);
          return { status: 'ok', path: null, name: 'untitled.iommulab' };
        },
        newSession: () => void main.news++,
        setState: (s) => void main.states.push(s),
        autosave: (m) => void main.autosaves.push(m),
        closeReady: () => void (main.closed = true),
        pathForFile: () => '',
        onEvent: (l) => {
          main.listener = l;
          return () => {};
        },
      },
    };
  })();`);
}

const main = <T>(page: Page, expr: string): Promise<T> =>
  page.evaluate(`window.__main.${expr}`) as Promise<T>;
const editorText = (page: Page) => page.locator('.monaco-editor .view-lines');

test('desktop: the file from the command line opens at start; Save goes to main, autosave only while unsaved', async ({
  page,
}) => {
  await installFakeDesktop(page, {
    startup: {
      open: {
        status: 'opened',
        path: '/home/u/labs/example.iommulab',
        name: 'example.iommulab',
        text: example,
      },
      openReason: 'command-line',
    },
    files: {},
  });
  await openLab(page);
  await expect(page.getByTestId('status')).toContainText('desktop');
  await expect(page.getByTestId('session-name')).toContainText('example.iommulab');
  await expect(page.getByTestId('tab')).toHaveCount(2);
  await expect(page).toHaveTitle('example.iommulab — IOMMU Lab');
  await expect(page.getByTestId('session-name')).toHaveAttribute(
    'title',
    /\/home\/u\/labs\/example\.iommulab/,
  );

  // It runs with the session's settings.
  await page.getByTestId('tab').first().click();
  await runScript(page);
  await expect(consoleRows(page).filter({ hasText: 'kernel v6.16 random 0.011704753153026104' })).toHaveCount(
    1,
  );

  // Typing makes it unsaved: main hears it, and gets the text for the side file a moment later.
  await setScript(page, "console.log('edited');\n");
  await expect(page.getByTestId('session-dirty')).toBeVisible();
  await expect
    .poll(() => main<unknown[]>(page, 'states.at(-1)'))
    .toEqual({ dirty: true, name: 'example.iommulab' });
  await expect
    .poll(() => main<number>(page, 'autosaves.filter((m) => m.content !== null).length'))
    .toBeGreaterThan(0);
  const side = await main<{ content: string }>(page, 'autosaves.findLast((m) => m.content !== null)');
  expect(JSON.parse(side.content).scripts[0].source).toBe("console.log('edited');\n");

  await page.keyboard.press('Control+S');
  await expect(page.getByTestId('session-dirty')).toHaveCount(0);
  const save = await main<{ content: string; saveAs: boolean; suggestedName: string }>(page, 'saves[0]');
  expect(save.saveAs).toBe(false);
  expect(save.suggestedName).toBe('example.iommulab');
  const doc = JSON.parse(save.content);
  expect(doc).toMatchObject({
    formatVersion: 2,
    kernel: 'v6.16',
    seed: 7,
    params: { driver: 'arm-smmu-v3' },
  });
  expect(doc.scripts[0].source).toBe("console.log('edited');\n");
  await expect(page.getByTestId('session-name')).toContainText('lab.iommulab');
  // Saved: the side file goes, and main knows nothing is unsaved.
  await expect.poll(() => main<unknown>(page, 'autosaves.at(-1)')).toEqual({ content: null });
  await expect
    .poll(() => main<unknown[]>(page, 'states.at(-1)'))
    .toEqual({ dirty: false, name: 'lab.iommulab' });

  // Save As asks main for a place every time.
  await page.keyboard.press('Control+Shift+S');
  await expect.poll(() => main<boolean>(page, 'saves.at(-1).saveAs')).toBe(true);
});

test('desktop: a failed save says why and keeps the editor as it was', async ({ page }) => {
  await installFakeDesktop(page, { startup: {}, files: {} });
  await openLab(page);
  await page.evaluate(
    "window.__main.saveReply = { status: 'error', message: 'could not save lab.iommulab: the folder /mnt/ro is on a read-only file system' }",
  );
  await setScript(page, "console.log('keep me');\n");
  await page.keyboard.press('Control+S');
  const dialog = page.getByTestId('session-dialog');
  await expect(dialog).toHaveAttribute('data-kind', 'save-error');
  await expect(dialog).toContainText('read-only file system');
  await expect(dialog).toContainText('Your work is still in the editor.');
  await page.getByTestId('session-dialog-ok').click();
  await expect(editorText(page)).toContainText("console.log('keep me')");
  await expect(page.getByTestId('session-dirty')).toBeVisible();

  await page.evaluate(
    "window.__main.saveReply = { status: 'error', message: 'could not save lab.iommulab: the disk is full' }",
  );
  await page.getByTestId('session-save').click();
  await expect(page.getByTestId('session-dialog-message')).toHaveText(
    'could not save lab.iommulab: the disk is full',
  );
  await page.getByTestId('session-dialog-ok').click();
  await expect(editorText(page)).toContainText("console.log('keep me')");

  // Save As to another file: the title names the file main could not write, as its reply gives it.
  await page.evaluate(
    "window.__main.saveReply = { status: 'error', message: 'could not save full.iommulab: the disk is full', name: 'full.iommulab' }",
  );
  await page.keyboard.press('Control+Shift+S');
  await expect(page.locator('#session-dialog-title')).toHaveText('Could not save full.iommulab');
  await page.getByTestId('session-dialog-ok').click();
  await expect(editorText(page)).toContainText("console.log('keep me')");
});

test('desktop: a file from the OS opens after the unsaved-change question; a bad one changes nothing', async ({
  page,
}) => {
  await installFakeDesktop(page, {
    startup: {},
    files: { '/home/u/old.iommulab': v1, '/home/u/new.iommulab': example },
  });
  await openLab(page);
  await setScript(page, "console.log('unsaved');\n");
  await expect(page.getByTestId('session-dirty')).toBeVisible();

  // main: a second launch with a file → open-request; the page asks, then opens main's pending file.
  await page.evaluate("window.__main.pending = '/home/u/old.iommulab'");
  await page.evaluate("window.__main.listener({ type: 'open-request', name: 'old.iommulab' })");
  await expect(page.getByTestId('session-dialog')).toContainText('Save the changes to untitled.iommulab');
  await page.getByTestId('session-dialog-discard').click();
  await expect(page.getByTestId('session-name')).toContainText('old.iommulab');
  await expect(page.getByTestId('kernel')).toHaveValue('v6.6');
  expect(await main<unknown>(page, 'opens.at(-1)')).toEqual({ kind: 'pending' });

  // main refuses a damaged file with its reason: the page shows it and keeps its session.
  await page.evaluate(
    "window.__main.openReply = { status: 'error', message: 'future.iommulab: made by a newer IOMMU Lab: formatVersion 7, this lab reads up to 2' }",
  );
  await page.getByTestId('session-open').click();
  await expect(page.getByTestId('session-dialog-message')).toHaveText(
    'future.iommulab: made by a newer IOMMU Lab: formatVersion 7, this lab reads up to 2',
  );
  await page.getByTestId('session-dialog-ok').click();
  await expect(page.getByTestId('session-name')).toContainText('old.iommulab');
  await expect(editorText(page)).toContainText("expect(lab.kernel()).toBe('v6.6')");
});

test('desktop: closing with unsaved changes — main asks, the page saves, then says the window may close', async ({
  page,
}) => {
  await installFakeDesktop(page, { startup: {}, files: {} });
  await openLab(page);
  await setScript(page, "console.log('closing');\n");
  await expect(page.getByTestId('session-dirty')).toBeVisible();
  await page.evaluate("window.__main.listener({ type: 'save-before-close' })");
  await expect.poll(() => main<boolean>(page, 'closed')).toBe(true);
  expect(JSON.parse((await main<{ content: string }>(page, 'saves[0]')).content).scripts[0].source).toBe(
    "console.log('closing');\n",
  );
});

test('desktop: after a crash the autosaved work is back and can be kept or discarded', async ({ page }) => {
  const unsaved = example.replace('"notes": "Two tabs', '"notes": "UNSAVED. Two tabs');
  await installFakeDesktop(page, {
    startup: {
      open: {
        status: 'opened',
        path: '/home/u/labs/example.iommulab',
        name: 'example.iommulab',
        text: example,
      },
      openReason: 'last-session',
      recovery: {
        id: 'crashed-run',
        text: unsaved,
        path: '/home/u/labs/example.iommulab',
        name: 'example.iommulab',
        savedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
      },
    },
    files: { '/home/u/labs/example.iommulab': example },
  });
  await openLab(page);
  await expect(page.getByTestId('session-recovery')).toContainText('Unsaved changes to example.iommulab');
  expect(await main<unknown[]>(page, 'recoveries')).toEqual([{ id: 'crashed-run', action: 'restore' }]);
  await expect(page.getByTestId('session-dirty')).toBeVisible();
  await page.getByTestId('session-name').click();
  await expect(page.getByTestId('session-notes')).toHaveValue(/^UNSAVED\. Two tabs/);
  await page.keyboard.press('Escape');

  await page.getByTestId('session-recovery-discard').click();
  await expect(page.getByTestId('session-recovery')).toHaveCount(0);
  await expect(page.getByTestId('session-dirty')).toHaveCount(0);
  await page.getByTestId('session-name').click();
  await expect(page.getByTestId('session-notes')).toHaveValue(/^Two tabs/);
  await expect.poll(() => main<unknown>(page, 'autosaves.at(-1)')).toEqual({ content: null });
});
