/**
 * The renderer's desktop path without Electron: a stand-in for the preload's `window.iommuLab` hands the
 * page MessagePorts to engine workers exactly as main does (a port per start, stop and crash), so the
 * Electron connector, the restart notice and menu commands are exercised in Chromium here. The real
 * preload and main are covered by electron.spec.ts where an Electron binary exists.
 */
import { expect, test } from '@playwright/test';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleRows, setScript } from './lab.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The engine worker's hashed file name in the web build (tests/run-e2e.js builds it first). */
function engineWorkerFile(): string | undefined {
  try {
    return readdirSync(path.join(root, 'out/web/workers')).find((f) => /^engine-.*\.js$/.test(f));
  } catch {
    return undefined;
  }
}

const FAKE_BRIDGE = (workerUrl: string): string => `
  (() => {
    let worker = null;
    let menu = null;
    const spawn = (reason) => {
      worker?.terminate();
      worker = new Worker(${JSON.stringify(workerUrl)}, { type: 'module' });
      const ch = new MessageChannel();
      worker.postMessage({ type: 'engine-port' }, [ch.port1]);
      window.postMessage({ source: 'iommu-lab', type: 'engine-port', reason }, '*', [ch.port2]);
      window.__engineStarts = (window.__engineStarts ?? 0) + 1;
    };
    window.iommuLab = {
      platform: 'linux',
      versions: { app: '0.0.0-test', electron: '', chrome: '', node: '' },
      runtime: { sandboxed: true, contextIsolated: true },
      connectEngine: () => spawn('start'),
      restartEngine: () => spawn('stop'),
      onMenu: (l) => { menu = l; return () => { menu = null; }; },
      setThemeSource: (s) => { window.__themeSource = s; },
    };
    // What main does when the utility process dies, and what a menu click sends.
    window.__crashEngine = () => spawn('crash');
    window.__menu = (cmd) => menu?.(cmd);
  })();
`;

test('desktop path: engine over a handed-in port, menu commands, restart after a crash keeps the text', async ({
  page,
}) => {
  const engineWorker = engineWorkerFile();
  expect(engineWorker, 'the web build has an engine worker').toBeTruthy();
  await page.addInitScript(FAKE_BRIDGE(`./workers/${engineWorker}`));
  await page.goto('/');
  await expect(page.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
  await expect(page.getByTestId('status')).toContainText('desktop');
  await expect(page).toHaveTitle(/ — IOMMU Lab$/); // the session has started: the editor takes typing

  await setScript(page, "console.log('over the port');\n");
  await page.evaluate("window.__menu({ action: 'run' })");
  await expect(consoleRows(page).filter({ hasText: 'over the port' })).toHaveCount(1);

  await page.evaluate("window.__menu({ action: 'theme', arg: 'dark' })");
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(await page.evaluate('window.__themeSource')).toBe('dark');

  // A session action that arrives later must not break anything.
  await page.evaluate("window.__menu({ action: 'save' })");
  await expect(page.getByTestId('notice')).toContainText('save');

  await page.evaluate('window.__crashEngine()');
  await expect(page.getByTestId('notice')).toContainText('engine restarted');
  await expect(page.getByTestId('status')).toContainText('engine ready');
  await expect(page.locator('.monaco-editor .view-lines')).toContainText("console.log('over the port')");

  // Stop goes through the bridge (main kills and restarts the utility process).
  await setScript(page, 'while (true) {}\n');
  await page.keyboard.press('Control+Enter');
  await expect(page.getByTestId('stop')).toBeEnabled();
  await page.keyboard.press('Shift+F5');
  await expect(page.getByTestId('outcome')).toHaveText('stopped');
  expect(await page.evaluate('window.__engineStarts')).toBe(3);
});
