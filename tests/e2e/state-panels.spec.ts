import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { openLab } from './lab.ts';
import { panel, runBuiltIn, runText, settled } from './state.ts';

test.use({ viewport: { width: 1600, height: 1000 } });

test('Domains: a card per domain, the mapping ranges with IOVA and PA, the page table by level', async ({
  page,
  context,
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await openLab(page);
  await runBuiltIn(page, 'pgsize-split.ts');
  const domains = panel(page, 'domains');
  const card = domains.locator('[data-testid=domain-card][data-domain="2"]');
  await expect(card).toContainText('UNMANAGED');
  await expect(card).toContainText('arm-smmu-v3 · smmu0');
  await expect(card).toContainText('4K | 2M | 1G');
  await expect(card).toContainText('0x0000_0000_0000 – 0xffff_ffff_ffff');
  await expect(card).toContainText('2 ranges · 2052 KiB'); // 2 MiB and 4 KiB, exactly
  // Enter on the focused header expands it.
  await card.getByTestId('domain-toggle').focus();
  await page.keyboard.press('Enter');
  await expect(card.getByTestId('domain-toggle')).toHaveAttribute('aria-expanded', 'true');
  const rows = card.getByTestId('mapping-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveText(/^0x0000_001f_f000\s*→\s*0x0000_007f_f000\s+4K\s+R\|W\s+4K$/);
  await expect(rows.nth(1)).toHaveText(/^0x0000_0020_0000\s*→\s*0x0000_0080_0000\s+2M\s+R\|W\s+2M$/);
  // A click copies the plain C literal.
  await rows.nth(1).locator('[data-copy]').nth(1).click();
  expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe('0x800000');
  // Arrow keys move through the list; Enter copies the active row's IOVA.
  const list = card.getByTestId('mapping-list');
  await list.focus();
  await page.keyboard.press('ArrowDown');
  await expect(list.locator('[role=option][aria-selected=true]')).toContainText('0x0000_0020_0000');
  await page.keyboard.press('Enter');
  await expect.poll(() => page.evaluate<string>('navigator.clipboard.readText()')).toBe('0x200000');

  await card.getByTestId('domain-view-pgtable').click();
  const tree = card.getByTestId('pgtable');
  await expect(tree).toContainText('arm-lpae-s1 · 4 levels · 4 tables');
  // Open L1, L2, L3: the 2M block sits at L2, the 4K page at L3.
  for (let i = 0; i < 3; i++)
    await tree
      .getByRole('button', { name: /^Open level/ })
      .first()
      .click();
  const block = tree.getByTestId('pte').filter({ hasText: 'block' });
  await expect(block).toContainText('0x0000_0080_0000');
  await expect(block).toContainText('2M');
  await expect(block).toContainText('AF=1');
  const leaf = tree.getByTestId('pte').filter({ hasText: 'page' });
  await expect(leaf).toContainText('[511]');
  await expect(leaf).toContainText('0x0000_007f_f000');
  await expect(leaf).toContainText('AP=1');
});

test("Domains: a virtio domain's 2^64 − 1 aperture end and cut page-size bits are said to be cut", async ({
  page,
}) => {
  await openLab(page);
  await runText(
    page,
    [
      "import { lab, iommu_paging_domain_alloc } from 'iommu-lab';",
      "const vi = lab.add_iommu('viommu0', 'virtio-iommu');",
      "const dev = lab.add_device('nic0', { iommu: vi });",
      'iommu_paging_domain_alloc(dev);',
      "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
      "iommu_paging_domain_alloc(lab.add_device('gpu0', { iommu: smmu }));",
    ].join('\n'),
  );
  const cards = panel(page, 'domains').locator('[data-testid=domain-card]');
  const virtio = cards.filter({ hasText: 'viommu0' }).filter({ hasText: 'UNMANAGED' });
  await expect(virtio.getByTestId('aperture-cut')).toHaveText('2^64 − 1 in Linux');
  await expect(virtio.getByTestId('pgsize-cut')).toBeVisible();
  const smmu = cards.filter({ hasText: 'smmu0' }).filter({ hasText: 'UNMANAGED' });
  await expect(smmu).toContainText('0xffff_ffff_ffff');
  await expect(smmu.getByTestId('aperture-cut')).toHaveCount(0);
  await expect(smmu.getByTestId('pgsize-cut')).toHaveCount(0);
});

test('Reserved regions: per group and device, by type in sysfs words, on a zoomable address bar', async ({
  page,
}) => {
  await openLab(page);
  await runBuiltIn(page, 'resv-merge.ts');
  await page.getByTestId('panel-tab-resv').click();
  const resv = panel(page, 'resv');
  const group = resv.locator('[data-testid=resv-group]').first();
  await expect(group).toContainText('group 0');
  const rows = group.getByTestId('resv-row');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toHaveAttribute('data-type', 'direct');
  await expect(rows.nth(0)).toContainText('0x0000_0000_10000x0000_0000_3fff12Kdirect');
  await expect(rows.nth(1)).toContainText('0x0000_0000_20000x0000_0000_5fff16Kreserved');
  await expect(rows.nth(2)).toContainText('0x0000_0800_00000x0000_080f_ffff1Mmsi');
  await expect(rows.nth(2)).toContainText('SW_MSI');
  await expect(group.getByTestId('resv-sysfs')).toContainText('0x0000000000001000 0x0000000000003fff direct');
  // Each device keeps its own list.
  const b = resv.locator('[data-testid=resv-device][data-device=b]');
  await expect(b.getByTestId('resv-row')).toHaveCount(3);

  const bar = resv.getByTestId('address-bar');
  await expect(bar.getByTestId('bar-lane')).toHaveCount(2);
  await expect(bar.locator('rect.region[data-type=reserved]')).toHaveCount(1);
  // Device a's direct region is identity-mapped in its DMA domain: the bar marks the overlap.
  await expect(bar.locator('[data-device=a] rect.overlap').first()).toBeAttached();
  await bar.locator('[data-device=b] rect.region[data-type=reserved]').hover();
  await expect(resv.getByTestId('bar-tip')).toContainText('reserved 0x2000 – 0x5fff (16K)');
  // 4 KiB regions next to one at 128 MiB: a linear scale would draw them under a pixel, so log it is.
  await expect(bar).toHaveAttribute('data-scale', 'log');
  // Every axis label is inside the bar, the last one (256T, the aperture's end) too.
  const ticks: { label: string; left: number; right: number }[] = await bar.evaluate((svg) =>
    // getBBox is the label's drawn extent, clipped by the bar or not.
    [...svg.querySelectorAll('g.axis text')].map((t) => {
      const box = (t as unknown as { getBBox(): { x: number; width: number } }).getBBox();
      return { label: t.textContent ?? '', left: box.x, right: box.x + box.width };
    }),
  );
  const barWidth = Number(await bar.getAttribute('width'));
  expect(ticks.at(-1)?.label).toBe('256T');
  for (const t of ticks) {
    expect(t.right, `${t.label} ends inside`).toBeLessThanOrEqual(barWidth);
    expect(t.left, `${t.label} starts inside`).toBeGreaterThanOrEqual(0);
  }
  const logFit = await bar.getAttribute('data-view');
  await resv.getByTestId('bar-log').uncheck();
  await expect(bar).toHaveAttribute('data-scale', 'linear');
  const linearFit = await bar.getAttribute('data-view');
  await resv.getByTestId('bar-zoom-in').click();
  await expect(bar).not.toHaveAttribute('data-view', linearFit!);
  await bar.hover();
  await page.mouse.wheel(0, 300);
  await bar.focus();
  await page.keyboard.press('0');
  await expect(bar).toHaveAttribute('data-view', linearFit!);
  await page.keyboard.press('l');
  await expect(bar).toHaveAttribute('data-scale', 'log');
  await expect(bar).toHaveAttribute('data-view', logFit!);
});

test('Reserved regions: two regions of one start and type, and two over one mapping, are all drawn; the panels go on', async ({
  page,
}) => {
  await openLab(page);
  await runText(
    page,
    [
      "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
      "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
      'const resv = [',
      "  { start: 0x100000, length: 0x3000, type: 'reserved' as const },",
      "  { start: 0x101000, length: 0x2000, type: 'msi' as const },",
      "  { start: 0x200000, length: 0x1000, type: 'reserved' as const },",
      "  { start: 0x200000, length: 0x2000, type: 'reserved' as const },",
      '];',
      "const dev = lab.add_device('nic0', { iommu: smmu, default_domain: 'blocked', resv });",
      'const d = iommu_paging_domain_alloc(dev);',
      'iommu_attach_device(d, dev);',
      'iommu_map(d, 0x102000, lab.mem.alloc(SZ_4K), SZ_4K, IOMMU_READ);',
      'dev.dma_read(0x102000, 4);',
      '',
    ].join('\n'),
  );
  await page.getByTestId('panel-tab-resv').click();
  const resv = panel(page, 'resv');
  const device = resv.locator('[data-testid=resv-device][data-device=nic0]');
  await expect(device.getByTestId('resv-row')).toHaveCount(5); // and the SMMU's SW_MSI
  const bar = resv.getByTestId('address-bar');
  await expect(bar.locator('rect.region')).toHaveCount(5);
  await expect(bar.locator('rect.overlap')).toHaveCount(2);
  // The other panels still follow the run (a crash in this one used to leave them reading the state).
  await page.getByTestId('panel-tab-iotlb').click();
  const inst = panel(page, 'iotlb').locator('[data-testid=iotlb-instance][data-iommu=smmu0]');
  await expect(inst.getByTestId('iotlb-entry')).toHaveCount(1);
  await expect(inst.getByTestId('tlb-misses')).toHaveText('1');
});

test('IOTLB: counters, a stale entry after a lazy unmap, and stepping back and forth changes it', async ({
  page,
}) => {
  await openLab(page);
  await runBuiltIn(page, 'strict-vs-lazy.ts');
  const iotlb = panel(page, 'iotlb');
  const inst = iotlb.locator('[data-testid=iotlb-instance][data-iommu=smmu0]');
  await expect(inst.getByTestId('tlb-misses')).toHaveText('4');
  await expect(inst.getByTestId('tlb-stale-hits')).toHaveText('1');
  await expect(inst.getByTestId('tlb-hits')).toHaveText('0');
  await expect(inst.getByTestId('hit-plot')).toHaveAttribute('data-points', '5');
  // The flush queue has been flushed by the end: nothing cached.
  await expect(inst.getByTestId('iotlb-entry')).toHaveCount(0);
  await expect(inst).toContainText('1 fault');

  // Back before lab.advance_time(10): the lazily unmapped page is still cached, and stale.
  await page.keyboard.press('Shift+F10');
  await page.keyboard.press('Shift+F10');
  await settled(page);
  await expect(page.getByTestId('panel-step').first()).toContainText('step 14 / 16');
  const entry = inst.getByTestId('iotlb-entry');
  await expect(entry).toHaveCount(1);
  await expect(entry).toHaveAttribute('data-state', 'stale');
  await expect(entry).toContainText('0x0000_ffff_f000');
  await expect(inst.getByTestId('tlb-misses')).toHaveText('3');
  // The CSV says the same.
  const download = page.waitForEvent('download');
  await iotlb.getByTestId('iotlb-csv').click();
  const csv = readFileSync((await (await download).path())!, 'utf8');
  expect(csv.split('\n')[0]).toBe('step,iommu,driver,tag,iova,size,pa,prot,state');
  expect(csv).toMatch(/^14,smmu0,arm-smmu-v3,\d+,0xfffff000,0x1000,0x[0-9a-f]+,R\|W\|C,stale$/m);

  // Forward again: flushed.
  await page.keyboard.press('F10');
  await page.keyboard.press('F10');
  await settled(page);
  await expect(inst.getByTestId('iotlb-entry')).toHaveCount(0);
  await expect(inst.getByTestId('tlb-misses')).toHaveText('4');
});

test('IOTLB: an unmap without a sync leaves the entry stale', async ({ page }) => {
  await openLab(page);
  await runText(
    page,
    [
      "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_map, iommu_unmap_fast, iommu_iotlb_gather_init, IS_ERR, IOMMU_READ, IOMMU_WRITE, SZ_4K } from 'iommu-lab';",
      "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
      "const dev = lab.add_device('nic0', { iommu: smmu, default_domain: 'blocked' });",
      'const d = iommu_paging_domain_alloc(dev);',
      "if (IS_ERR(d)) throw new Error('no domain');",
      'iommu_attach_device(d, dev);',
      'iommu_map(d, 0x10000, 0x80000000, SZ_4K, IOMMU_READ | IOMMU_WRITE);',
      'dev.dma_read(0x10000, 4);',
      'iommu_unmap_fast(d, 0x10000, SZ_4K, iommu_iotlb_gather_init());',
      '',
    ].join('\n'),
  );
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  const entry = panel(page, 'iotlb').getByTestId('iotlb-entry');
  await expect(entry).toHaveCount(1);
  await expect(entry).toHaveAttribute('data-state', 'stale');
  await expect(entry).toContainText('0x0000_0001_0000');
  await expect(entry).toContainText('0x0000_8000_0000');
  // One step back (before the unmap) the same entry is live.
  await page.keyboard.press('Shift+F10');
  await settled(page);
  await expect(entry).toHaveAttribute('data-state', 'valid');
  // And Domains shows the mapping there, gone at the end.
  const card = panel(page, 'domains').locator('[data-testid=domain-card]').filter({ hasText: 'UNMANAGED' });
  await expect(card).toContainText('1 range · 4 KiB');
  await page.keyboard.press('F10');
  await settled(page);
  await expect(card).toContainText('0 ranges · 0 B');
});

test('the state panels say which file their run was, and warn when it is not the active tab', async ({
  page,
}) => {
  await openLab(page);
  await runBuiltIn(page, 'strict-vs-lazy.ts');
  const file = panel(page, 'domains').getByTestId('panel-run-file');
  await expect(file).toHaveText('strict-vs-lazy.ts');
  await expect(file).not.toHaveClass(/other/);
  // Another tab is not what the panels show: they say whose run it is.
  await page.getByTestId('tab-new').click();
  await expect(file).toHaveText('run of strict-vs-lazy.ts');
  await expect(file).toHaveClass(/other/);
  await expect(file).toHaveAttribute(
    'title',
    /last run, which was strict-vs-lazy\.ts; the active tab is scratch-/,
  );
  // Back on the scenario's tab, the plain name again.
  await page.locator('[data-testid=tab]', { hasText: 'strict-vs-lazy.ts' }).click();
  await expect(file).toHaveText('strict-vs-lazy.ts');
  await expect(file).not.toHaveClass(/other/);
});

test('Domains: the page table is read without asking unless it has many leaves, however few its ranges', async ({
  page,
}) => {
  test.setTimeout(90_000);
  await openLab(page);
  await runText(
    page,
    [
      "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_map, IOMMU_READ, SZ_4K, SZ_1G } from 'iommu-lab';",
      "const vtd = lab.add_iommu('vtd0', 'intel-iommu', { superpages: 0 });",
      "const a = lab.add_device('a', { iommu: vtd });",
      'const da = iommu_paging_domain_alloc(a);',
      'iommu_attach_device(da, a);',
      '// 256 MiB in 4 KiB pages: one range, 65,536 leaves.',
      'iommu_map(da, 0x1000_0000, 0x1000_0000, 65536 * SZ_4K, IOMMU_READ);',
      "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
      "const b = lab.add_device('b', { iommu: smmu });",
      'const db = iommu_paging_domain_alloc(b);',
      'iommu_attach_device(db, b);',
      '// 4 GiB in 1 GiB blocks: one range, 4 leaves.',
      'iommu_map(db, 0x4000_0000, 0x4000_0000, 4 * SZ_1G, IOMMU_READ);',
    ].join('\n'),
  );
  const cards = panel(page, 'domains').locator('[data-testid=domain-card]').filter({ hasText: 'UNMANAGED' });
  const small = cards.filter({ hasText: 'smmu0' });
  await expect(small).toContainText('1 range · 4 GiB');
  await small.getByTestId('domain-toggle').click();
  await small.getByTestId('domain-view-pgtable').click();
  await expect(small.getByTestId('pgtable')).toContainText('arm-lpae-s1 · 4 levels');
  await expect(small.getByTestId('pgtable-large')).toHaveCount(0);

  const large = cards.filter({ hasText: 'vtd0' });
  await expect(large).toContainText('1 range · 256 MiB');
  await large.getByTestId('domain-toggle').click();
  await large.getByTestId('domain-view-pgtable').click();
  await expect(large.getByTestId('pgtable-large')).toContainText('65,536 leaf entries');
  await expect(large.getByRole('tree')).toHaveCount(0);
  // Asked, it is read.
  await large.getByRole('button', { name: 'Read it anyway' }).click();
  await expect(large.getByRole('tree')).toBeVisible({ timeout: 30_000 });
});

test('Domains: a long mapping reads in GiB, and its size stays apart from its PA', async ({ page }) => {
  await openLab(page);
  await runText(
    page,
    [
      "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
      "const vi = lab.add_iommu('vi0', 'virtio-iommu', { page_size_mask: 0x1000 });",
      "const dev = lab.add_device('nic0', { iommu: vi });",
      'const d = iommu_paging_domain_alloc(dev);',
      'iommu_attach_device(d, dev);',
      'iommu_map(d, 0x1_0000_0000, 0x1_0000_0000, 1_000_000 * SZ_4K, IOMMU_READ);',
    ].join('\n'),
  );
  const domains = panel(page, 'domains');
  const card = domains.locator('[data-testid=domain-card]').filter({ hasText: 'UNMANAGED' });
  // A million 4 KiB pages: 3.81 GiB, not 4000000 KiB (the exact bytes are in the tooltip).
  await expect(card).toContainText('1 range · ≈3.81 GiB');
  await expect(card.locator('.stat')).toHaveAttribute('title', '4\u2009096\u2009000\u2009000 bytes');
  await expect(domains).toContainText('≈3.81 GiB mapped');
  await card.getByTestId('domain-toggle').click();
  await expect(card.getByTestId('mapping-row').first()).toHaveText(
    /^0x0001_0000_0000\s*→\s*0x0001_0000_0000\s+≈3\.81G\s+R\s/,
  );
});
