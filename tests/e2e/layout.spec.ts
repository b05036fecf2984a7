import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { openLab, runScript } from './lab.ts';
import { expectOnScreen, panel, runText } from './state.ts';

test('the splitter resizes the panel column and the width is kept', async ({ page }) => {
  await openLab(page);
  const side = page.getByRole('complementary', { name: 'Panels', exact: true });
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

test('the bottom dock and the groups of a dock resize too', async ({ page }) => {
  await openLab(page);
  const bottom = page.getByRole('complementary', { name: 'Bottom panels' });
  const h0 = (await bottom.boundingBox())!.height;
  await page.getByTestId('splitter-bottom').focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowUp');
  expect((await bottom.boundingBox())!.height).toBeGreaterThan(h0 + 40);
  const domains = page.getByTestId('panel-domains');
  const d0 = (await domains.boundingBox())!.height;
  const handle = (await page.getByTestId('splitter-right-1').boundingBox())!;
  await page.mouse.move(handle.x + 100, handle.y + handle.height / 2);
  await page.mouse.down();
  await page.mouse.move(handle.x + 100, handle.y + 120, { steps: 6 });
  await page.mouse.up();
  expect((await domains.boundingBox())!.height).toBeGreaterThan(d0 + 100);
});

test.describe('at 1600×1000', () => {
  test.use({ viewport: { width: 1600, height: 1000 } });

  test('the default layout shows Domains, Reserved regions, IOTLB and Console at once', async ({ page }) => {
    await openLab(page);
    for (const id of ['domains', 'resv', 'iotlb', 'console']) await expectOnScreen(page, id);
    // Right dock stacked top to bottom, the Console under the editor.
    const y = async (id: string) => (await panel(page, id).boundingBox())!.y;
    expect(await y('domains')).toBeLessThan(await y('resv'));
    expect(await y('resv')).toBeLessThan(await y('iotlb'));
    const editor = (await page.getByRole('region', { name: 'Editor' }).boundingBox())!;
    const console = (await panel(page, 'console').boundingBox())!;
    expect(console.y).toBeGreaterThan(editor.y + editor.height - 2);
    expect(console.x).toBeLessThan(editor.x + 5);
  });

  test('a panel closes, reopens from the View menu, and moves between docks', async ({ page }) => {
    await openLab(page);
    await page.getByTestId('panel-close-resv').click();
    await expect(page.getByTestId('panel-tab-resv')).toHaveCount(0);
    await expect(panel(page, 'resv')).toHaveCount(0);
    // The groups left share the column.
    await expectOnScreen(page, 'iotlb');

    await page.getByTestId('view-menu').click();
    await expect(page.getByTestId('view-resv')).toHaveAttribute('aria-checked', 'false');
    await expect(page.getByTestId('view-domains')).toHaveAttribute('aria-checked', 'true');
    await page.getByTestId('view-resv').click();
    await expectOnScreen(page, 'resv');
    await page.keyboard.press('Escape');

    // Keyboard: Delete on a focused tab closes it.
    await page.getByTestId('panel-tab-iotlb').focus();
    await page.keyboard.press('Delete');
    await expect(page.getByTestId('panel-tab-iotlb')).toHaveCount(0);
    await page.getByTestId('view-menu').click();
    await page.getByTestId('view-iotlb').click();
    await page.keyboard.press('Escape');
    await expectOnScreen(page, 'iotlb');

    // The group menu moves IOTLB under the editor, next to the Console.
    await page.getByTestId('panel-menu-iotlb').click();
    await page.getByTestId('panel-move-bottom').click();
    const bottom = page.getByRole('complementary', { name: 'Bottom panels' });
    await expect(bottom.getByTestId('panel-tab-iotlb')).toHaveAttribute('aria-selected', 'true');
    await expect(bottom.getByTestId('panel-tab-console')).toHaveAttribute('aria-selected', 'false');

    // Dragging its tab onto the Domains group's strip takes it back to the right.
    const right = page.getByRole('complementary', { name: 'Panels', exact: true });
    await bottom.getByTestId('panel-tab-iotlb').dragTo(right.getByTestId('panel-tab-domains'));
    await expect(right.getByTestId('panel-tab-iotlb')).toHaveAttribute('aria-selected', 'true');
    await expect(bottom.getByTestId('panel-tab-iotlb')).toHaveCount(0);

    // The layout is kept across a reload.
    await page.reload();
    await expect(page.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
    await expect(right.getByTestId('panel-tab-iotlb')).toHaveAttribute('aria-selected', 'true');

    // Reset layout brings back the default.
    await page.getByTestId('view-menu').click();
    await page.getByTestId('view-reset').click();
    for (const id of ['domains', 'resv', 'iotlb', 'console']) await expectOnScreen(page, id);
  });

  for (const [what, stored] of [
    ['not JSON', '{"version":2,'],
    [
      'a width that is not a number',
      '{"version":2,"rightWidth":"wide","bottomHeight":0.3,"docks":{"right":[],"bottom":[]},"hidden":[],"closed":[]}',
    ],
    [
      'a dock that is not a list',
      '{"version":2,"rightWidth":0.5,"bottomHeight":0.3,"docks":{"right":7,"bottom":[]},"hidden":[],"closed":[]}',
    ],
  ]) {
    test(`a stored layout with ${what} falls back to the default`, async ({ page }) => {
      await page.addInitScript(
        `if (!sessionStorage.getItem('seeded')) {
          localStorage.setItem('iommu-lab.layout.v2', ${JSON.stringify(stored)});
          sessionStorage.setItem('seeded', '1');
        }`,
      );
      await openLab(page);
      for (const id of ['domains', 'resv', 'iotlb', 'console']) await expectOnScreen(page, id);
      // The default replaced the broken value.
      const saved = await page.evaluate<{
        version: number;
        docks: { right: { active: string }[] };
      }>("JSON.parse(localStorage.getItem('iommu-lab.layout.v2'))");
      expect(saved.version).toBe(2);
      expect(saved.docks.right.map((g: { active: string }) => g.active)).toEqual([
        'domains',
        'resv',
        'iotlb',
      ]);
    });
  }

  test('a panel exports as SVG and PNG', async ({ page }) => {
    await openLab(page);
    await runText(
      page,
      "import { lab } from 'iommu-lab';\nlab.add_device('nic0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });\n",
    );
    await expect(panel(page, 'domains').getByTestId('domain-card')).toHaveCount(1);

    await page.getByTestId('panel-menu-domains').click();
    let download = page.waitForEvent('download');
    await page.getByTestId('panel-export-svg').click();
    const svgFile = await download;
    expect(svgFile.suggestedFilename()).toBe('iommu-lab-domains.svg');
    const svg = readFileSync((await svgFile.path())!, 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/);
    expect(svg).toContain('<foreignObject');
    expect(svg).toContain('arm-smmu-v3 · smmu0');
    expect(svg).toContain('0x0000_0000_0000');

    await page.getByTestId('panel-menu-domains').click();
    download = page.waitForEvent('download');
    await page.getByTestId('panel-export-png').click();
    const pngFile = await download;
    expect(pngFile.suggestedFilename()).toBe('iommu-lab-domains.png');
    const png = readFileSync((await pngFile.path())!);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const box = (await panel(page, 'domains').boundingBox())!;
    // Twice the panel's size (drawn at 2× for sharp text).
    expect(png.readUInt32BE(16)).toBe(Math.ceil(box.width) * 2);
    expect(png.readUInt32BE(20)).toBe(Math.ceil(box.height) * 2);
  });

  test('the panels follow the theme', async ({ page }) => {
    await openLab(page);
    const bg = () =>
      page.evaluate<string>(
        "getComputedStyle(document.querySelector('[data-testid=panel-domains]')).backgroundColor",
      );
    await page.getByTestId('theme').selectOption('light');
    const light = await bg();
    await page.getByTestId('theme').selectOption('dark');
    await expect.poll(bg).not.toBe(light);
    const msi = () =>
      page.evaluate<string>(
        "getComputedStyle(document.querySelector('[data-testid=panel-resv] .panel')).getPropertyValue('--c-msi')",
      );
    expect(await msi()).toBe('#b28ae0');
    await page.getByTestId('theme').selectOption('light');
    expect(await msi()).toBe('#8452b0');
  });
});

test.describe('a narrow window', () => {
  test.use({ viewport: { width: 760, height: 600 } });

  test('keeps every toolbar control and each panel’s menu, step and actions inside the window', async ({
    page,
  }) => {
    await openLab(page);
    await runScript(page);
    await expect(page.getByTestId('outcome')).toHaveText('passed');
    const inside = async (testid: string) => {
      const el = page.getByTestId(testid).first();
      await expect(el).toBeVisible();
      const box = (await el.boundingBox())!;
      expect(box.x + box.width, `${testid} right edge`).toBeLessThanOrEqual(760);
    };
    for (const id of ['session-name', 'run', 'stop', 'step-back', 'step', 'view-menu', 'theme'])
      await inside(id);
    for (const id of ['domains', 'resv', 'iotlb']) await inside(`panel-menu-${id}`);
    await expect(page.getByTestId('panel-step')).toHaveCount(3);
    for (const step of await page.getByTestId('panel-step').all()) {
      const box = (await step.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(760);
    }
    await inside('iotlb-csv');
  });

  test('keeps each legend swatch on the line of its name, and the session’s name readable', async ({
    page,
  }) => {
    await openLab(page);
    await runScript(page);
    await expect(page.getByTestId('address-bar')).toBeVisible();
    // Each swatch of the Reserved regions legend and the text after it: the text starts right
    // after the swatch, on the swatch's line, and takes one line.
    const keys = await page.evaluate<{ name: string; lines: number; sameLine: boolean; gap: number }[]>(`
      [...document.querySelectorAll('[data-testid=panel-resv] .legend .sw')].map((sw) => {
        let label = sw.nextSibling;
        while (label && !label.textContent.trim()) label = label.nextSibling;
        const range = document.createRange();
        range.selectNodeContents(label);
        const lines = [...range.getClientRects()].filter((r) => r.width > 0);
        const s = sw.getBoundingClientRect();
        const l = lines[0];
        return {
          name: label.textContent.trim(),
          lines: lines.length,
          sameLine: l.top <= s.top + s.height / 2 && s.top + s.height / 2 <= l.bottom,
          gap: l.left - s.right,
        };
      })`);
    expect(keys.map((k) => k.name)).toEqual([
      'aperture',
      'direct',
      'direct-relaxable',
      'reserved',
      'msi',
      'mapping',
      'overlap',
    ]);
    for (const k of keys) {
      expect(k, k.name).toMatchObject({ lines: 1, sameLine: true });
      expect(k.gap, k.name).toBeGreaterThanOrEqual(0);
      expect(k.gap, k.name).toBeLessThan(10);
    }

    // The session's name keeps room for 'untitled…' (the toolbar's controls stay inside the window: above).
    const name = page.getByTestId('session-name').locator('.file');
    expect((await name.boundingBox())!.width).toBeGreaterThanOrEqual(60);
  });
});
