import { expect, test } from '@playwright/test';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLab, runScript } from './lab.ts';
import { showPanel } from './panels.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('the scenario gallery opens a scenario in a new tab, and it runs with its helpers', async ({ page }) => {
  await openLab(page);
  await showPanel(page, 'help');
  await page.getByTestId('help-tab-gallery').click();
  const card = page.getByTestId('gallery').locator('li[data-scenario="map-before-attach.ts"]');
  await expect(card).toContainText('Map before attach');
  // Each Open button is named after its scenario, not just "Open".
  await expect(card.getByTestId('gallery-open')).toHaveAccessibleName('Open map-before-attach.ts');
  const names = await page
    .getByTestId('gallery-open')
    .evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-label')));
  expect(new Set(names).size).toBe(names.length);
  await card.getByTestId('gallery-open').click();
  await expect(page.locator('[data-testid=tab][aria-selected=true]')).toHaveText(/map-before-attach\.ts/);
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('Map before attach');
  // It imports ./lib/iova-window.ts, which every run gets from scenarios/lib.
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  // Opening it again gives a second tab; nothing typed is replaced.
  await card.getByTestId('gallery-open').click();
  await expect(page.locator('[data-testid=tab][aria-selected=true]')).toHaveText(/map-before-attach-2\.ts/);
});

test('the API reference, generated from the .d.ts, finds iommu_map', async ({ page }) => {
  await openLab(page);
  await showPanel(page, 'help');
  await page.getByTestId('help-tab-api').click();
  await page.getByTestId('api-search').fill('iommu_map');
  const first = page.getByTestId('api-reference').locator('article.decl').first();
  await expect(first).toHaveAttribute('data-decl', 'iommu_map');
  await expect(first).toContainText(
    'iommu_map(domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): number',
  );
  await expect(first).toContainText('rolls back on failure');
  await expect(page.getByTestId('api-reference').locator('article[data-decl="iommu_map_sg"]')).toHaveCount(1);
  // Members are searched too: Lab.add_iommu under the Lab interface.
  await page.getByTestId('api-search').fill('add_iommu');
  // Both signatures: a driver literal (with its options) and a driver named at run time.
  const add = page.getByTestId('api-reference').locator('li[data-decl="Lab.add_iommu"]');
  await expect(add).toHaveCount(2);
  await expect(add.nth(1)).toContainText('driver: RuntimeDriverName<S>');
});

/** The desktop's Help menu items, sent as main sends them (through a stand-in for the preload's bridge). */
test('Help → API Reference, Scenario Gallery and Keyboard Shortcuts open the Help panel at that page', async ({
  page,
}) => {
  const engine = readdirSync(path.join(root, 'out/web/workers')).find((f) => /^engine-.*\.js$/.test(f));
  await page.addInitScript(`(() => {
    let menu = null;
    window.iommuLab = {
      platform: 'linux',
      versions: { app: '0.0.0-test', electron: '', chrome: '', node: '' },
      runtime: { sandboxed: true, contextIsolated: true },
      connectEngine: () => {
        const worker = new Worker('./workers/${engine}', { type: 'module' });
        const ch = new MessageChannel();
        worker.postMessage({ type: 'engine-port' }, [ch.port1]);
        window.postMessage({ source: 'iommu-lab', type: 'engine-port', reason: 'start' }, '*', [ch.port2]);
      },
      restartEngine: () => {},
      onMenu: (l) => { menu = l; return () => { menu = null; }; },
      setThemeSource: () => {},
    };
    window.__menu = (cmd) => menu?.(cmd);
  })();`);
  await page.goto('/');
  await expect(page.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
  await page.evaluate("window.__menu({ action: 'gallery' })");
  await expect(page.getByTestId('panel-tab-help')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('help-tab-gallery')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('gallery').locator('li[data-scenario]')).not.toHaveCount(0);
  await page.evaluate("window.__menu({ action: 'api-reference' })");
  await expect(page.getByTestId('help-tab-api')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('api-reference')).toContainText('iommu_paging_domain_alloc');
  await page.evaluate("window.__menu({ action: 'keys' })");
  await expect(page.getByTestId('help-tab-keys')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('help-keys')).toContainText('Shift+F5');
  // In the desktop app Ctrl+N is the lab's, as the File menu shows.
  await expect(page.getByTestId('help-keys').locator('tr', { hasText: 'New session' })).toHaveText(
    /^Ctrl\+N\s*New session$/,
  );
});

test('Help → Keys lists the keys, and Ctrl+M lets Tab leave the editor as it says', async ({ page }) => {
  await openLab(page);
  await showPanel(page, 'help');
  await page.getByTestId('help-tab-keys').click();
  const keys = page.getByTestId('help-keys');
  await expect(keys.locator('tr', { hasText: 'Shift+F10' })).toContainText('Step back');
  // Save and open work in the browser too; Ctrl+N is the browser's own, and the toolbar has New.
  await expect(keys.locator('tr', { hasText: 'Save the session' })).toHaveText(
    /^Ctrl\+S, Ctrl\+Shift\+S\s*Save the session, save it as$/,
  );
  await expect(keys.locator('tr', { hasText: 'Open a session' })).toHaveText(/^Ctrl\+O\s*Open a session$/);
  await expect(keys.locator('tr', { hasText: 'New session' })).toHaveText(
    /^Ctrl\+N\s*New session\s*— not in a browser, .*: use New on the toolbar$/,
  );
  await expect(keys).not.toContainText('Ctrl+N, Ctrl+O');
  const tabRow = keys.locator('tr', { hasText: 'Ctrl+M' });
  await expect(tabRow).toContainText('move focus out of the editor');
  // In the editor Tab indents; after Ctrl+M it moves focus on, out of the editor.
  await page.locator('.monaco-editor .view-lines').click();
  const focusedInEditor = page.locator('.monaco-editor :focus');
  await page.keyboard.press('Tab');
  await expect(focusedInEditor).toHaveCount(1);
  await page.keyboard.press('Control+M');
  await page.keyboard.press('Tab');
  await expect(focusedInEditor).toHaveCount(0);
});
