/** Helpers for driving the lab page: typing into Monaco, running, reading the console. */
import { expect, type Locator, type Page } from '@playwright/test';

export async function openLab(page: Page): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.locator('.monaco-editor .view-lines')).toBeVisible();
  await expect(page.getByTestId('status')).toContainText('engine ready', { timeout: 30_000 });
  // The session has started (its title is set then): the editor takes typing from here on.
  await expect(page).toHaveTitle(/ — IOMMU Lab$/, { timeout: 30_000 });
  expect(errors, 'page errors while loading').toEqual([]);
}

/** Replace the active tab's text. insertText types no auto-closed brackets or quotes. */
export async function setScript(page: Page, text: string): Promise<void> {
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

export async function newTab(page: Page): Promise<void> {
  await page.getByTestId('tab-new').click();
  await expect(page.locator('[data-testid=tab][aria-selected=true]')).toContainText('scratch-');
}

export function consoleRows(page: Page): Locator {
  return page.getByTestId('console').locator('.row');
}

/** Run with Ctrl+Enter from the editor and wait until the run has finished. */
export async function runScript(page: Page): Promise<void> {
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('Control+Enter');
  await expect(page.getByTestId('outcome')).toBeVisible({ timeout: 30_000 });
}

/** The y of a line-number cell in the gutter (for checking where a marker sits). */
export async function lineTop(page: Page, line: number): Promise<number> {
  const cell = page
    .locator('.monaco-editor .line-numbers')
    .filter({ hasText: new RegExp(`^${line}$`) })
    .first();
  const box = await cell.boundingBox();
  if (!box) throw new Error(`line ${line} is not on screen`);
  return box.y;
}
