/**
 * The desktop app, through Playwright's Electron support. Runs where an Electron binary exists
 * (tests/run-e2e.js passes it in ELECTRON_BINARY and builds out/ first); elsewhere it is skipped and says so.
 */
import { _electron as electron, expect, test } from '@playwright/test';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const binary = process.env.ELECTRON_BINARY ?? '';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('desktop: sandboxed window, engine in a utility process, run and restart', async () => {
  test.skip(!binary, 'skipped: no Electron binary on this machine (it cannot be downloaded here)');
  const app = await electron.launch({ executablePath: binary, args: [root], cwd: root });
  try {
    const page = await app.firstWindow();
    await expect(page.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
    await expect(page.getByTestId('status')).toContainText('desktop');

    // Isolation: no Node in the page, only the small bridge.
    expect(await page.evaluate('typeof require')).toBe('undefined');
    expect(await page.evaluate('typeof process')).toBe('undefined');
    expect(await page.evaluate<string[]>('Object.keys(window.iommuLab)')).toContain('connectEngine');
    const runtime = await page.evaluate('window.iommuLab.runtime');
    expect(runtime).toEqual({ sandboxed: true, contextIsolated: true });

    // A run goes through the utility process.
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText("console.log('from the utility process');\n");
    await page.keyboard.press('Control+Enter');
    await expect(page.getByTestId('console')).toContainText('from the utility process', { timeout: 30_000 });

    // Kill the engine: main starts another, the page says so and keeps the text.
    const killed = await app.evaluate(async ({ app: a }) => {
      const metrics = a
        .getAppMetrics()
        .filter(
          (m) =>
            m.type === 'Utility' && (m.name === 'IOMMU Lab engine' || m.serviceName === 'IOMMU Lab engine'),
        );
      for (const m of metrics) process.kill(m.pid, 'SIGKILL');
      return metrics.length;
    });
    expect(killed).toBe(1);
    await expect(page.getByTestId('notice')).toContainText('engine restarted', { timeout: 20_000 });
    await expect(page.locator('.monaco-editor .view-lines')).toContainText('from the utility process');

    // Navigation away is refused (an http URL: https ones would be handed to the system browser).
    await page.evaluate("location.href = 'http://127.0.0.1:9/'");
    await page.waitForTimeout(500);
    expect(page.url()).toMatch(/^app:\/\/lab\//);
  } finally {
    await app.close();
  }
});

test('desktop: a session file given on the command line opens, saves in place and is a recent file', async () => {
  test.skip(!binary, 'skipped: no Electron binary on this machine (it cannot be downloaded here)');
  const dir = mkdtempSync(path.join(tmpdir(), 'iommu-lab-electron-'));
  const file = path.join(dir, 'example.iommulab');
  copyFileSync(path.join(root, 'engine/session/fixtures/example.iommulab'), file);
  // Its own data folder: the recent files and autosave of the user's real app stay untouched.
  const env = { ...process.env, IOMMU_LAB_USER_DATA: path.join(dir, 'user-data') };
  const app = await electron.launch({ executablePath: binary, args: [root, file], cwd: root, env });
  try {
    const page = await app.firstWindow();
    await expect(page.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
    await expect(page.getByTestId('session-name')).toContainText('example.iommulab');
    await expect(page.getByTestId('tab')).toHaveCount(2);
    await expect(page.getByTestId('kernel')).toHaveValue('v6.16');
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.getTitle())).toBe(
      'example.iommulab — IOMMU Lab',
    );

    // Save writes the same file (atomically: no temporary file is left beside it).
    await page.getByTestId('tab').first().click();
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText("console.log('saved from the desktop');\n");
    await expect(page.getByTestId('session-dirty')).toBeVisible();
    await page.keyboard.press('ControlOrMeta+S');
    await expect(page.getByTestId('session-dirty')).toHaveCount(0);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.scripts[0].source).toBe("console.log('saved from the desktop');\n");
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // It is the first recent file, and Help → About names the version.
    const menu = await app.evaluate(({ Menu }) => {
      const items = Menu.getApplicationMenu()?.items ?? [];
      const file = items.find((i) => i.label.replace('&', '') === 'File');
      const recent = file?.submenu?.items.find((i) => i.label === 'Open Recent');
      const help = items.find((i) => i.label.replace('&', '') === 'Help');
      return {
        recent: recent?.submenu?.items.map((i) => i.label) ?? [],
        about: help?.submenu?.items.some((i) => i.label === 'About IOMMU Lab') ?? false,
      };
    });
    expect(menu.recent[0]).toBe(file);
    expect(menu.about).toBe(true);
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect(await app.evaluate(({ app: a }) => a.getVersion())).toBe(pkg.version);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
