/** Helpers for the Trace, Checks, Matrix and Help panels. */
import { expect, type Page } from '@playwright/test';

/** Bring a panel to the front of its group (its tab in the dock). */
export async function showPanel(page: Page, id: string): Promise<void> {
  const tab = page.getByTestId(`panel-tab-${id}`);
  await tab.click();
  await expect(tab).toHaveAttribute('aria-selected', 'true');
}

/** Open a built-in scenario in a new tab the way a user does: Help → Scenario gallery → Open. */
export async function openScenario(page: Page, name: string): Promise<void> {
  await showPanel(page, 'help');
  await page.getByTestId('help-tab-gallery').click();
  await page
    .getByTestId('gallery')
    .locator(`li[data-scenario="${name}"]`)
    .getByTestId('gallery-open')
    .click();
  await expect(page.locator('[data-testid=tab][aria-selected=true]')).toHaveText(
    new RegExp(name.replace('.', '\\.')),
  );
}

/** "step 3 / 10" → [3, 10]; "steps 10" → [10, 10]. */
export async function stepIndicator(page: Page): Promise<[number, number]> {
  const text = (await page.getByTestId('steps').textContent()) ?? '';
  const at = /step (\d+) \/ (\d+)/.exec(text);
  if (at) return [Number(at[1]), Number(at[2])];
  const end = /steps (\d+)/.exec(text);
  if (end) return [Number(end[1]), Number(end[1])];
  throw new Error(`no step in '${text}'`);
}
