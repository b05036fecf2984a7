/** VT-d second-level quirks (facts §2.3, §5.5), as intel/iommu.c behaves up to v6.16. */
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../mem/phys-mem.ts';
import { Trace } from '../../trace/trace.ts';
import { IoPgtable } from '../io-pgtable.ts';
import { FlushLog } from '../test-flush.ts';
import {
  EFAULT,
  EINVAL,
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  WalkResult,
  type IoPgtableCfg,
} from '../types.ts';
import { VTD_SL } from './vtd-sl.ts';

const K = 1024;
const M = 1024 * K;
const G = 1024 * M;
const RW = IOMMU_READ | IOMMU_WRITE;

function make(cfg: Partial<IoPgtableCfg> = {}) {
  const mem = new PhysMem();
  const trace = new Trace();
  const flush = new FlushLog();
  return { mem, trace, flush, pt: new IoPgtable(mem, trace, VTD_SL, cfg, flush) };
}

describe('vtd-sl', () => {
  it('AGAW 39/48/57 gives 3/4/5 levels; SLLPS decides the superpages (§5.5)', () => {
    expect(make({ ias: 39 }).pt.levels).toBe(3);
    expect(make().pt.levels).toBe(4);
    expect(make({ ias: 57 }).pt.levels).toBe(5);
    expect(make().pt.cfg.pgsize_bitmap).toBe(4 * K + 2 * M + 1 * G);
    expect(make({ sllps: 1 }).pt.cfg.pgsize_bitmap).toBe(4 * K + 2 * M);
    expect(make({ sllps: 0 }).pt.cfg.pgsize_bitmap).toBe(4 * K);
  });

  it('R bit 0, W bit 1, PS bit 7 on superpages, SNP bit 11 for CACHE; write-only is allowed', () => {
    const { pt } = make();
    pt.map_pages(0, 0x8000_0000, 4 * K, 1, IOMMU_WRITE);
    pt.map_pages(2 * M, 0x8020_0000, 2 * M, 1, RW | IOMMU_CACHE);
    const leaves = pt.tables().flatMap((t) => t.entries.filter((e) => e.decoded.type !== 'table'));
    expect(leaves.map((e) => e.raw_lo & 0xfff).sort((a, b) => a - b)).toEqual([0x2, 0x883]);
    const w = new WalkResult();
    expect(pt.walk(0x10, w)).toBe(true);
    expect(w.prot).toBe(IOMMU_WRITE);
    expect(pt.walk(2 * M + 5, w)).toBe(true);
    expect(w).toMatchObject({ size: 2 * M, level: 2, prot: RW | IOMMU_CACHE });
  });

  it('picks a superpage itself when 512 aligned 4K pages are asked for', () => {
    const { pt } = make();
    expect(pt.map_pages(2 * M, 0x4000_0000, 4 * K, 512, RW)).toEqual({ ret: 0, mapped: 2 * M });
    expect([...pt.leaves()]).toEqual([{ iova: 2 * M, pa: 0x4000_0000, size: 2 * M, prot: RW, level: 2 }]);
    // Without SLLPS a 2M pgsize is still accepted and mapped as 4K pages.
    const small = make({ sllps: 0 }).pt;
    expect(small.map_pages(0, 0x4000_0000, 2 * M, 1, RW).ret).toBe(0);
    expect([...small.leaves()]).toHaveLength(512);
  });

  it('-EINVAL for other page sizes or no R/W, -EFAULT past the domain width', () => {
    const { pt } = make({ ias: 39 });
    expect(pt.map_pages(0, 0, 8 * K, 1, RW).ret).toBe(-EINVAL);
    expect(pt.map_pages(0, 0, 4 * K, 1, IOMMU_CACHE).ret).toBe(-EINVAL);
    expect(pt.map_pages(2 ** 39 - 4 * K, 0, 4 * K, 2, RW)).toEqual({ ret: -EFAULT, mapped: 0 });
  });

  it('a 4K PTE already set is kept with a WARN and the map still returns 0', () => {
    const { pt, trace } = make();
    pt.map_pages(0x1000, 0x1000_0000, 4 * K, 1, RW);
    expect(pt.map_pages(0x1000, 0x2000_0000, 4 * K, 2, RW)).toEqual({ ret: 0, mapped: 8 * K });
    expect(pt.iova_to_phys(0x1000)).toBe(0x1000_0000);
    expect(pt.iova_to_phys(0x2000)).toBe(0x2000_1000);
    const last = Array.from({ length: trace.length }, (_, i) => trace.event(i)).find(
      (e) => e.name === 'pgtable_pte_exists',
    );
    expect(last).toMatchObject({ action: 'kept', iova: 0x1000 });
  });

  it('a kept PTE is not reported changed: only the entries written are (intel/iommu.c __domain_mapping)', () => {
    // __domain_mapping's try_cmpxchg64_local leaves a PTE already set as it is (and WARNs "DMA PTE
    // for vPFN ... already set"): nothing there changed, so nothing cached for it went stale.
    const { pt, flush } = make();
    pt.map_pages(0x2000, 0x1000_0000, 4 * K, 1, RW);
    flush.changed.length = 0;
    expect(pt.map_pages(0x1000, 0x2000_0000, 4 * K, 3, RW)).toEqual({ ret: 0, mapped: 12 * K });
    expect(pt.iova_to_phys(0x2000)).toBe(0x1000_0000);
    expect(flush.changed).toEqual([
      [0x1000, 4 * K],
      [0x3000, 4 * K],
    ]);
    // Nothing in the way: the run is reported whole, in one piece.
    flush.changed.length = 0;
    pt.map_pages(0x10_0000, 0x3000_0000, 4 * K, 4, RW);
    expect(flush.changed).toEqual([[0x10_0000, 16 * K]]);
  });

  it('a superpage over 4K pages frees their table first (switch_to_super_page)', () => {
    const { pt, flush, mem } = make();
    pt.map_pages(2 * M, 0x1000_0000, 4 * K, 4, RW);
    const before = mem.allocated_bytes;
    expect(pt.map_pages(2 * M, 0x4000_0000, 2 * M, 1, RW).ret).toBe(0);
    expect(mem.allocated_bytes).toBe(before - 4 * K);
    expect(flush.walks).toEqual([[2 * M, 2 * M]]);
    expect(pt.iova_to_phys(2 * M + 4 * K)).toBe(0x4000_1000);
  });

  it('unmapping 4K of a superpage removes all of it and reports 2M (§2.3)', () => {
    const { pt, flush } = make();
    pt.map_pages(2 * M, 0x4000_0000, 2 * M, 1, RW);
    expect(pt.unmap_pages(2 * M, 4 * K, 1, 'g')).toBe(2 * M);
    expect(pt.iova_to_phys(2 * M + 8 * K)).toBe(0);
    expect(flush.pages).toEqual([[2 * M, 2 * M]]);
  });

  it('an unmap of a hole reports the size of the level where the lookup stopped', () => {
    const { pt } = make();
    expect(pt.unmap_pages(0x1000, 4 * K, 1, null)).toBe(512 * G);
    pt.map_pages(0, 0x1000_0000, 4 * K, 1, RW);
    expect(pt.unmap_pages(0x1000, 4 * K, 1, null)).toBe(4 * K);
    expect(pt.unmap_pages(4 * M, 4 * K, 1, null)).toBe(2 * M);
    expect(pt.iova_to_phys(0)).toBe(0x1000_0000);
  });

  it('an unmap covering whole tables frees them', () => {
    const { pt, mem } = make();
    pt.map_pages(0, 0x1000_0000, 4 * K, 512, RW); // becomes one 2M superpage
    pt.map_pages(2 * M, 0x2000_0000, 4 * K, 3, RW);
    const before = mem.allocated_bytes;
    expect(pt.unmap_pages(0, 2 * M, 2, null)).toBe(4 * M);
    expect(mem.allocated_bytes).toBe(before - 4 * K);
    expect(pt.mappings()).toEqual([]);
  });
});
