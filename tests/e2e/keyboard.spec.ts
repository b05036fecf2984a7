/**
 * The window-wide keys meet the widgets' own: Home and End are time travel outside, and the first or
 * last item inside a menu, a tab strip or a list (WAI-ARIA); closing a panel by keyboard leaves the
 * focus on a tab, not on the page's body.
 */
import { expect, test, type Page } from '@playwright/test';
import { openLab } from './lab.ts';
import { panel, runText } from './state.ts';
import { stepIndicator } from './panels.ts';

/** Four steps to build the machine, then three maps: a domain with three ranges. */
const THREE_MAPS = [
  "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_map } from 'iommu-lab';",
  "const dev = lab.add_device('nic0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });",
  'const d = iommu_paging_domain_alloc(dev) as any;',
  'iommu_attach_device(d, dev);',
  'iommu_map(d, 0x10000, 0x8000_0000, 0x1000, 3);',
  'iommu_map(d, 0x30000, 0x9000_0000, 0x1000, 3);',
  'iommu_map(d, 0x50000, 0xa000_0000, 0x1000, 3);',
].join('\n');

const focused = (page: Page) =>
  page.evaluate<string>(
    "document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName ?? ''",
  );

/** Press a key as a keydown on the focused element; whether anything took it (preventDefault). */
const taken = (page: Page, key: string) =>
  page.evaluate<boolean>(`(() => {
    const e = new KeyboardEvent('keydown', { key: ${JSON.stringify(key)}, bubbles: true, cancelable: true });
    (document.activeElement ?? document.body).dispatchEvent(e);
    return e.defaultPrevented;
  })()`);

test('Home and End belong to menus, tab strips and lists; outside them they travel in time', async ({
  page,
}) => {
  await openLab(page);
  // Before any run: a tab strip's End goes to its last tab, and on the page the keys are left alone.
  await page.getByTestId('panel-tab-domains').focus();
  await page.keyboard.press('End');
  expect(await focused(page)).toBe('panel-tab-help');
  await page.keyboard.press('Home');
  expect(await focused(page)).toBe('panel-tab-domains');
  await page.evaluate('document.activeElement?.blur()');
  expect(await taken(page, 'End')).toBe(false);
  expect(await taken(page, 'Home')).toBe(false);

  await runText(page, THREE_MAPS);
  const [, last] = await stepIndicator(page);
  // One map back: the domain has two ranges.
  await page.keyboard.press('Shift+F10');
  await expect.poll(() => stepIndicator(page)).toEqual([last - 1, last]);

  // The View menu: End and Home move through its items; the run stays where it is.
  await page.getByTestId('view-menu').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('view-domains')).toBeFocused();
  await page.keyboard.press('End');
  expect(await focused(page)).toBe('view-reset');
  await page.keyboard.press('Home');
  expect(await focused(page)).toBe('view-domains');
  await page.keyboard.press('Escape');
  // A panel's ⋯ menu.
  await page.getByTestId('panel-menu-domains').focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('End');
  expect(await focused(page)).toBe('panel-close');
  await page.keyboard.press('Escape');
  // A panel tab strip, after a run too.
  await page.getByTestId('panel-tab-domains').focus();
  await page.keyboard.press('End');
  expect(await focused(page)).toBe('panel-tab-help');
  await page.keyboard.press('Home');
  expect(await focused(page)).toBe('panel-tab-domains');
  expect(await stepIndicator(page)).toEqual([last - 1, last]);

  // The mappings list: Home is its first row (at step 0 this domain would not exist yet).
  const card = panel(page, 'domains').locator('[data-testid=domain-card][data-domain="2"]');
  await card.getByTestId('domain-toggle').click();
  const list = card.getByTestId('mapping-list');
  await list.focus();
  await page.keyboard.press('End');
  await expect(list.locator('[role=option][aria-selected=true]')).toContainText('0x0000_0003_0000');
  await page.keyboard.press('Home');
  await expect(list.locator('[role=option][aria-selected=true]')).toContainText('0x0000_0001_0000');
  await expect(list).toBeFocused();
  // The domain card's views are a tab strip too.
  await card.getByTestId('domain-view-mappings').focus();
  await page.keyboard.press('End');
  await expect(card.getByTestId('domain-view-pgtable')).toBeFocused();
  await expect(card.getByTestId('domain-view-pgtable')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Home');
  await expect(card.getByTestId('domain-view-mappings')).toBeFocused();
  expect(await stepIndicator(page)).toEqual([last - 1, last]);

  // Outside the widgets they are time travel.
  await card.getByTestId('domain-toggle').focus();
  await page.keyboard.press('Home');
  await expect.poll(() => stepIndicator(page)).toEqual([0, last]);
  await page.getByTestId('run').focus();
  await page.keyboard.press('End');
  await expect.poll(() => stepIndicator(page)).toEqual([last, last]);
});

test('the trace list goes to the run’s start and end on Home and End, the editor tabs to their first and last', async ({
  page,
}) => {
  await openLab(page);
  await runText(page, THREE_MAPS);
  const [, last] = await stepIndicator(page);
  // The trace's rows are the run's steps: its first and last rows are the start and end.
  await page.getByTestId('panel-tab-trace').click();
  const rows = page.getByTestId('trace-rows');
  await rows.focus();
  await page.keyboard.press('Home');
  await expect.poll(() => stepIndicator(page)).toEqual([0, last]);
  await expect(rows).toHaveAttribute('aria-activedescendant', 'trace-row-0');
  await page.keyboard.press('End');
  await expect.poll(() => stepIndicator(page)).toEqual([last, last]);
  await expect(rows).toBeFocused();

  await page.getByTestId('tab-new').click();
  await page.getByTestId('tab').first().focus();
  await page.keyboard.press('End');
  await expect(page.getByTestId('tab').last()).toBeFocused();
  await expect(page.getByTestId('tab').last()).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Home');
  await expect(page.getByTestId('tab').first()).toBeFocused();
  await expect(page.getByTestId('tab').first()).toHaveAttribute('aria-selected', 'true');
});

test('Delete on a panel tab gives the focus to the tab beside it, or to the next group', async ({ page }) => {
  await openLab(page);
  // Domains shares its group with Matrix and Help: the tab after it takes its place and the focus.
  await page.getByTestId('panel-tab-domains').focus();
  await page.keyboard.press('Delete');
  await expect(page.getByTestId('panel-tab-domains')).toHaveCount(0);
  await expect(page.getByTestId('panel-tab-matrix')).toBeFocused();
  await expect(page.getByTestId('panel-tab-matrix')).toHaveAttribute('aria-selected', 'true');
  // IOTLB is alone in its group, the last: the group goes, the focus moves to the group before it.
  await page.getByTestId('panel-tab-iotlb').focus();
  await page.keyboard.press('Delete');
  await expect(page.getByTestId('panel-tab-iotlb')).toHaveCount(0);
  await expect(page.getByTestId('panel-tab-resv')).toBeFocused();
  // The × of a tab (a click) too.
  await page.getByTestId('panel-close-resv').click();
  await expect(page.getByTestId('panel-tab-matrix')).toBeFocused();
});
