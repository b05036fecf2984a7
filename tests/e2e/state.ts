/** Helpers for the state panels (Domains, Reserved regions, IOTLB) and the layout. */
import { expect, type Locator, type Page } from '@playwright/test';
import { runScript, setScript } from './lab.ts';

/** Open a built-in scenario from Help → Scenario gallery (as a user would) and run it. */
export async function runBuiltIn(page: Page, name: string): Promise<void> {
  await page.getByTestId('panel-tab-help').click();
  await page.getByTestId('help-tab-gallery').click();
  await page
    .getByTestId('gallery')
    .locator(`li[data-scenario="${name}"]`)
    .getByTestId('gallery-open')
    .click();
  await expect(page.locator('[data-testid=tab][aria-selected=true]')).toHaveText(
    new RegExp(name.replace('.', '\\.')),
  );
  await page.getByTestId('panel-tab-domains').click();
  await runScript(page);
  await settled(page);
}

/** Type a script (one statement per line: Monaco adds nothing to those) and run it. */
export async function runText(page: Page, text: string): Promise<void> {
  await setScript(page, text);
  await runScript(page);
  await settled(page);
}

/** Wait until the state panels show the step the status bar shows. */
export async function settled(page: Page): Promise<void> {
  await expect
    .poll(async () => {
      const status = (await page.getByTestId('steps').textContent()) ?? '';
      const badge = (await page.getByTestId('panel-step').first().textContent()) ?? '';
      const at = /step (\d+) \/ (\d+)/.exec(status);
      const shown = /step (\d+)/.exec(badge)?.[1];
      const want = at ? at[1] : /steps (\d+)/.exec(status)?.[1];
      return shown !== undefined && shown === want && !badge.includes('…');
    })
    .toBe(true);
}

export function panel(page: Page, id: string): Locator {
  return page.getByTestId(`panel-${id}`);
}

/** The panel is drawn inside the window with a usable size. */
export async function expectOnScreen(page: Page, id: string): Promise<void> {
  const p = panel(page, id);
  await expect(p).toBeVisible();
  const box = (await p.boundingBox())!;
  const vp = page.viewportSize()!;
  expect(box.width, `${id} width`).toBeGreaterThan(250);
  expect(box.height, `${id} height`).toBeGreaterThan(120);
  expect(box.x + box.width, `${id} right edge`).toBeLessThanOrEqual(vp.width + 1);
  expect(box.y + box.height, `${id} bottom edge`).toBeLessThanOrEqual(vp.height + 1);
}
