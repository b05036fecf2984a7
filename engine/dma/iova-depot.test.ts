/**
 * The rcache depot per kernel era, through the real core, the arm-smmu-v3 model and dma-iommu:
 * v6.6 keeps at most MAX_GLOBAL_MAGS magazines and frees the next one at once; from v6.7 the depot
 * grows without bound and a delayed work trims it, one magazine per IOVA_DEPOT_DELAY, down to
 * one magazine per CPU (the lab models one).
 */
import { describe, expect, it } from 'vitest';
import { DMA_TO_DEVICE } from '../core/constants.ts';
import type { IommuDomain } from '../core/domain.ts';
import { KERNEL_NAMES, type KernelName } from '../core/kernel-profile.ts';
import { Machine } from '../core/machine.ts';
import { parse_options } from '../core/options.ts';
import { iommu_probe_device } from '../core/probe.ts';
import { arm_smmu_v3 } from '../drivers/arm-smmu-v3/index.ts';
import { deepClone } from '../trace/deep-clone.ts';
import { dma_iova_ranges, dma_map_single, dma_unmap_single } from './dma-iommu.ts';
import { IOVA_MAG_SIZE, MAX_GLOBAL_MAGS } from './iova.ts';
import { IOVA_DEPOT_DELAY } from './iova-depot.ts';

function lab(kernel: KernelName) {
  const m = new Machine(kernel);
  const smmu = arm_smmu_v3.create(m, 'smmu0', parse_options(arm_smmu_v3.name, arm_smmu_v3.options, {}));
  m.iommus.push(smmu);
  const dev = iommu_probe_device(m, 'nic0', smmu, {
    resv: [],
    group: null,
    bus: 'pci',
    trusted: true,
    default_domain: 'dma',
  });
  const domain = dev.group!.domain as IommuDomain;
  const buf = m.mem.alloc_pages(0x1000);
  return { m, dev, domain, buf };
}

type Lab = ReturnType<typeof lab>;

/** Map `n` one-page buffers, then unmap them in the order mapped: n frees into the order-0 rcache. */
function churn(l: Lab, n: number): number[] {
  const iovas: number[] = [];
  for (let i = 0; i < n; i++) iovas.push(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE));
  for (const iova of iovas) dma_unmap_single(l.dev, iova, 0x1000, DMA_TO_DEVICE);
  return iovas;
}

const cached = (l: Lab) => dma_iova_ranges(l.domain).filter((r) => r.state === 'cached').length;
const magazineFrees = (l: Lab) =>
  l.m.trace
    .events({ names: ['iova_magazine_free'] })
    .map((e) => ({ pfns: e.pfns, depot: e.depot, reason: e.reason, size: e.size }));

/**
 * Frees that leave exactly `mags` magazines in the depot: the loaded and previous magazines fill
 * first (254 frees); from then on every 127th free finds both full and pushes the loaded one,
 * and goes into a fresh magazine itself.
 */
const freesForDepot = (mags: number) => (mags + 1) * IOVA_MAG_SIZE + 1;

describe('the rcache depot per kernel era', () => {
  it.each(KERNEL_NAMES)('%s: a depot of two magazines is trimmed to one after 100 ms from v6.7 on', (k) => {
    const l = lab(k);
    const n = freesForDepot(2); // 382
    const iovas = churn(l, n);
    expect(cached(l)).toBe(n);
    l.m.advance_time(IOVA_DEPOT_DELAY - 1);
    expect(cached(l)).toBe(n);
    l.m.advance_time(1);
    const trims = k === 'v6.6' ? 0 : 1;
    expect(cached(l)).toBe(n - trims * IOVA_MAG_SIZE);
    expect(magazineFrees(l)).toEqual(
      trims ? [{ pfns: IOVA_MAG_SIZE, depot: 1, reason: 'work', size: 0x1000 }] : [],
    );
    // One magazine per CPU stays: the next run finds nothing to do and does not re-arm.
    l.m.advance_time(10 * IOVA_DEPOT_DELAY);
    expect(cached(l)).toBe(n - trims * IOVA_MAG_SIZE);
    expect(l.m.timers).toHaveLength(0);

    // The trimmed magazine was the depot's newest: the frees 255..381, IOVAs iovas[254..380].
    // They are a hole in the tree now, so a two-page range (no cached one) lands in it; with the
    // magazine still cached it goes below every IOVA handed out so far.
    const two = dma_map_single(l.dev, l.buf, 0x2000, DMA_TO_DEVICE);
    const lowest = iovas[n - 1];
    if (k === 'v6.6') {
      expect(two).toBe(lowest - 0x2000);
    } else {
      expect(two).toBeGreaterThanOrEqual(iovas[380]);
      expect(two + 0x2000 - 1).toBeLessThanOrEqual(iovas[254] + 0xfff);
    }
    // The single pages still come from the CPU magazines, newest first, in every era.
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE)).toBe(lowest);
  });

  it.each(KERNEL_NAMES)(
    '%s: a magazine past MAX_GLOBAL_MAGS goes to the tree at once (v6.6) or waits for the work',
    (k) => {
      const l = lab(k);
      const n = freesForDepot(MAX_GLOBAL_MAGS + 1); // 4319
      churn(l, n);
      if (k === 'v6.6') {
        expect(cached(l)).toBe(n - IOVA_MAG_SIZE);
        expect(magazineFrees(l)).toEqual([
          { pfns: IOVA_MAG_SIZE, depot: MAX_GLOBAL_MAGS, reason: 'full', size: 0x1000 },
        ]);
        l.m.advance_time(100 * IOVA_DEPOT_DELAY);
        expect(cached(l)).toBe(n - IOVA_MAG_SIZE);
        return;
      }
      expect(cached(l)).toBe(n);
      expect(magazineFrees(l)).toEqual([]);
      // One magazine per run: 33 → 1 takes 32 runs, 3.2 s.
      l.m.advance_time(31 * IOVA_DEPOT_DELAY);
      expect(cached(l)).toBe(n - 31 * IOVA_MAG_SIZE);
      l.m.advance_time(100 * IOVA_DEPOT_DELAY);
      expect(cached(l)).toBe(n - 32 * IOVA_MAG_SIZE);
      const frees = magazineFrees(l);
      expect(frees.map((f) => f.depot)).toEqual(Array.from({ length: 32 }, (_, i) => 32 - i));
      expect(new Set(frees.map((f) => f.reason))).toEqual(new Set(['work']));
    },
  );

  it('a push while the work is pending does not move it: the first run is 100 ms after the first push', () => {
    // schedule_delayed_work leaves a pending work alone (mod_delayed_work would re-arm it).
    const l = lab('v6.8');
    const first = freesForDepot(2);
    const iovas: number[] = [];
    for (let i = 0; i < first + IOVA_MAG_SIZE; i++)
      iovas.push(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE));
    for (const iova of iovas.slice(0, first)) dma_unmap_single(l.dev, iova, 0x1000, DMA_TO_DEVICE);
    expect(l.m.timers.map((t) => t.due_ms)).toEqual([IOVA_DEPOT_DELAY]);
    l.m.advance_time(IOVA_DEPOT_DELAY / 2);
    // 127 more frees fill the loaded magazine; the last one pushes it: a third magazine at 50 ms.
    for (const iova of iovas.slice(first)) dma_unmap_single(l.dev, iova, 0x1000, DMA_TO_DEVICE);
    expect(l.m.timers.map((t) => t.due_ms)).toEqual([IOVA_DEPOT_DELAY]);
    l.m.advance_time(IOVA_DEPOT_DELAY / 2);
    expect(magazineFrees(l).map((f) => f.depot)).toEqual([2]);
    expect(l.m.timers.map((t) => t.due_ms)).toEqual([2 * IOVA_DEPOT_DELAY]);
    l.m.advance_time(IOVA_DEPOT_DELAY);
    expect(magazineFrees(l).map((f) => f.depot)).toEqual([2, 1]);
    expect(cached(l)).toBe(first + IOVA_MAG_SIZE - 2 * IOVA_MAG_SIZE);
  });

  it('the pending work is plain state: a clone trims on its own clock, the original waits', () => {
    const l = lab('v6.16');
    const n = freesForDepot(2);
    churn(l, n);
    const copy = deepClone(l.m);
    const cdom = copy.devices[0].group!.domain as IommuDomain;
    copy.advance_time(IOVA_DEPOT_DELAY);
    expect(dma_iova_ranges(cdom).filter((r) => r.state === 'cached')).toHaveLength(n - IOVA_MAG_SIZE);
    expect(cached(l)).toBe(n);
    l.m.advance_time(IOVA_DEPOT_DELAY);
    expect(cached(l)).toBe(n - IOVA_MAG_SIZE);
  });
});
