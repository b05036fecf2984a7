import { readFileSync } from 'node:fs';
import { expect, test, type Locator } from '@playwright/test';
import { openLab, runScript } from './lab.ts';
import { showPanel, stepIndicator } from './panels.ts';

/** The count's text once it matches, read in the same poll: it is blank while a query is under way. */
async function countText(count: Locator, pattern: RegExp): Promise<string> {
  let text = '';
  await expect.poll(async () => (text = (await count.textContent()) ?? '')).toMatch(pattern);
  return text;
}

test('the trace lists the run; the kind filter and the search narrow it', async ({ page }) => {
  await openLab(page);
  await runScript(page);
  await showPanel(page, 'trace');
  const rows = page.getByTestId('trace-rows').locator('.row');
  await expect(rows.first()).toContainText('api_call');
  const count = page.getByTestId('trace-count');
  const all = Number((await countText(count, /^[\d,]+ events$/)).replace(/\D/g, ''));
  expect(all).toBeGreaterThan(20);

  // An api_call row shows the call with its arguments named, addresses in hex, handles by name.
  await page.getByTestId('trace-search').fill('iommu_map');
  await expect(
    rows.filter({
      hasText: /iommu_map\(domain 2, iova=0x10000, paddr=0x[0-9a-f]+, size=0x1000, prot=0x3\)/,
    }),
  ).toHaveCount(1);
  await expect(rows.filter({ hasText: /iommu_map → 0/ })).toHaveCount(1);
  // Strings as strings, objects in brief, what a call returns by name; nothing for what was not passed.
  await page.getByTestId('trace-search').fill('lab.add_');
  await expect(rows.filter({ hasText: 'lab.add_iommu(name="smmu0", driver="arm-smmu-v3")' })).toHaveCount(1);
  await expect(rows.filter({ hasText: 'lab.add_iommu → iommu smmu0' })).toHaveCount(1);
  await expect(
    rows.filter({ hasText: 'lab.add_device(name="nic0", spec={iommu: iommu smmu0})' }),
  ).toHaveCount(1);
  await expect(rows.filter({ hasText: 'lab.add_device → device nic0' })).toHaveCount(1);
  await page.getByTestId('trace-search').fill('');
  await expect(count).toHaveText(`${all} events`);

  // Hiding one kind leaves fewer rows and none of that kind.
  await page.getByTestId('trace-kind-call').uncheck();
  const noCalls = Number(
    (await countText(count, new RegExp(`^[\\d,]+ of ${all.toLocaleString()} events$`)))
      .split(' ')[0]
      .replace(/\D/g, ''),
  );
  expect(noCalls).toBeLessThan(all);
  await expect(page.getByTestId('trace-rows').locator('.row[data-kind=call]')).toHaveCount(0);
  await page.getByTestId('trace-kind-call').check();
  await expect(count).toHaveText(`${all} events`);

  // The search keeps only the rows that mention it.
  await page.getByTestId('trace-search').fill('dma_access');
  await expect(count).toHaveText(`2 of ${all} events`);
  await expect(rows).toHaveCount(2);
  for (const r of await rows.all()) await expect(r).toContainText('dma_access');
  await expect(rows.first()).toContainText('device=nic0 iova=0x10000');

  // The device filter: only events naming that device.
  await page.getByTestId('trace-search').fill('');
  // Unfiltered first, so the count read next is the device filter's and not the search's before it.
  await expect(count).toHaveText(`${all} events`);
  await page.getByTestId('trace-device').fill('nic0');
  const ofNic0 = await countText(count, /^[1-9][\d,]* of [\d,]+ events$/);
  for (const r of (await rows.all()).slice(0, 5)) await expect(r).toContainText('nic0');
  // As a filter box does: part of the name, in any case (nic0 is the only device).
  await page.getByTestId('trace-device').fill('nic');
  await expect(count).toHaveText(ofNic0);
  await page.getByTestId('trace-device').fill('IC0');
  await expect(count).toHaveText(ofNic0);
  await page.getByTestId('trace-device').fill('gpu');
  await expect(count).toHaveText(`0 of ${all} events`);

  // The domain filter: only events of that domain (the NIC's paging domain is #2).
  await page.getByTestId('trace-device').fill('');
  await page.getByTestId('trace-domain').fill('2');
  for (const r of await rows.all()) await expect(r).toContainText('domain=2');
  // With the search too, so the row sought is among the few drawn (the list draws what fits).
  await page.getByTestId('trace-search').fill('map');
  const map = rows.filter({ has: page.locator('.c-name', { hasText: /^map$/ }) });
  await expect(map).toHaveCount(1);
  await expect(map).toContainText('domain=2 iova=0x10000');
  for (const r of await rows.all()) await expect(r).toContainText('domain=2');
});

test('clicking a row moves every panel to its step; the slider, buttons and Home/End follow', async ({
  page,
}) => {
  await openLab(page);
  await runScript(page);
  await showPanel(page, 'trace');
  const [, total] = await stepIndicator(page);
  const slider = page.getByTestId('trace-slider');
  await expect(slider).toHaveValue(String(total));

  // One row per step: the api_call kind only.
  for (const k of ['return', 'pte', 'tlb', 'command', 'virtio', 'dma', 'fault', 'check'])
    await page.getByTestId(`trace-kind-${k}`).uncheck();
  await page.getByTestId('trace-search').fill('api_call');
  const row = page.getByTestId('trace-rows').locator('.row[data-step="3"]').first();
  await row.click();
  await expect(page.getByTestId('steps')).toHaveText(`step 3 / ${total}`);
  await expect(page.getByTestId('trace-step')).toHaveText(`step 3 / ${total}`);
  await expect(slider).toHaveValue('3');
  await expect(row).toHaveClass(/current/);
  // Rows after the step shown are dimmed, rows at it marked.
  await expect(page.getByTestId('trace-rows').locator('.row[data-step="4"]').first()).toHaveClass(/future/);

  // Keyboard in the list: Home goes to the start, End to the end.
  await page.getByTestId('trace-rows').focus();
  await page.keyboard.press('Home');
  await expect(page.getByTestId('steps')).toHaveText(`step 0 / ${total}`);
  await expect(slider).toHaveValue('0');
  await page.keyboard.press('End');
  await expect(page.getByTestId('steps')).toHaveText(`steps ${total}`);

  // The toolbar's buttons and the slider.
  await page.getByTestId('trace-start').click();
  await expect(page.getByTestId('trace-step')).toHaveText(`step 0 / ${total}`);
  await page.getByTestId('trace-forward').click();
  await expect(page.getByTestId('trace-step')).toHaveText(`step 1 / ${total}`);
  await slider.fill('5');
  await expect(page.getByTestId('steps')).toHaveText(`step 5 / ${total}`);
  await page.getByTestId('trace-back').click();
  await expect(page.getByTestId('steps')).toHaveText(`step 4 / ${total}`);
  await page.getByTestId('trace-end').click();
  await expect(page.getByTestId('steps')).toHaveText(`steps ${total}`);

  // Arrow keys move the cursor row, Enter seeks to it.
  await page.getByTestId('trace-rows').focus();
  await page.keyboard.press('Home');
  await expect(page.getByTestId('steps')).toHaveText(`step 0 / ${total}`);
  // api_call rows only: row k is step k. Each key is checked before the next, as a user sees it.
  const cursor = page.getByTestId('trace-rows').locator('.row.cursor');
  await expect(cursor).toHaveAttribute('data-step', '1');
  await page.keyboard.press('ArrowDown');
  await expect(cursor).toHaveAttribute('data-step', '2');
  await page.keyboard.press('ArrowDown');
  await expect(cursor).toHaveAttribute('data-step', '3');
  await page.keyboard.press('Enter');
  await expect(cursor).toHaveAttribute('data-step', '3');
  await expect(page.getByTestId('steps')).toHaveText(`step 3 / ${total}`);
});

test('the trace exports as CSV (the rows shown) and the run as a JSON report', async ({ page }) => {
  await openLab(page);
  await runScript(page);
  await showPanel(page, 'trace');
  await page.getByTestId('trace-search').fill('dma_access');
  await expect(page.getByTestId('trace-count')).toHaveText(/^2 of/);

  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('trace-export-csv').click(),
  ]);
  expect(csv.suggestedFilename()).toBe('main-trace.csv');
  const lines = readFileSync((await csv.path())!, 'utf8')
    .trimEnd()
    .split('\n');
  expect(lines[0]).toBe('index,step,kind,name,device,iova,length,write,pa,tlb');
  expect(lines).toHaveLength(3);
  expect(lines[1]).toMatch(/,dma_access,nic0,0x10000,0x4,false,0x[0-9a-f]+,miss$/);
  expect(lines[2]).toMatch(/,hit$/);

  // A call's arguments: strings and handles as text, a cell left empty for one not passed.
  await page.getByTestId('trace-search').fill('iommu_attach_device');
  const rows = page.getByTestId('trace-rows').locator('.row');
  await expect(rows.first()).toContainText('iommu_attach_device(domain 2, device nic0)');
  await expect(page.getByTestId('trace-count')).toHaveText(/^2 of/);
  const [calls] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('trace-export-csv').click(),
  ]);
  const callLines = readFileSync((await calls.path())!, 'utf8')
    .trimEnd()
    .split('\n');
  expect(callLines[0]).toBe('index,step,kind,name,fn,a0,a1,a2,a3,a4,a5,ret');
  expect(callLines[1]).toMatch(/^\d+,4,call,api_call,iommu_attach_device,domain 2,device nic0,,,,,$/);
  expect(callLines[2]).toMatch(/^\d+,4,return,api_return,iommu_attach_device,,,,,,,0x0$/);

  const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('run-report').click()]);
  expect(json.suggestedFilename()).toBe('main-report.json');
  const report = JSON.parse(readFileSync((await json.path())!, 'utf8'));
  expect(report).toMatchObject({
    format: 'iommu-lab-run-report',
    file: 'main.ts',
    kernel: 'v6.16',
    status: 'passed',
    summary: { hasRun: true, status: 'passed' },
  });
  expect(report.expectations.passed).toBeGreaterThan(0);
  expect(report.expectations.log[0]).toMatchObject({ passed: true, line: expect.any(Number) });
  expect(report.console.some((l: { text: string }) => /dma_read #1/.test(l.text))).toBe(true);
  expect(Array.isArray(report.checks)).toBe(true);
});
