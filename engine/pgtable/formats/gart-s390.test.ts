/** Tegra GART (facts §5.3) and s390 zPCI (facts §5.7) quirks. */
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../mem/phys-mem.ts';
import { Trace } from '../../trace/trace.ts';
import { IoPgtable } from '../io-pgtable.ts';
import { FlushLog } from '../test-flush.ts';
import { EINVAL, ENOMEM, ERANGE, IOMMU_READ, IOMMU_WRITE, WalkResult, type IoPgtableCfg } from '../types.ts';
import { GART } from './gart.ts';
import { S390 } from './s390.ts';

const K = 1024;
const M = 1024 * K;
const RW = IOMMU_READ | IOMMU_WRITE;
const AP = 0x5800_0000;

function gart(cfg: Partial<IoPgtableCfg> = {}) {
  const mem = new PhysMem();
  return { mem, pt: new IoPgtable(mem, new Trace(), GART, cfg, null) };
}

function s390() {
  const mem = new PhysMem();
  const flush = new FlushLog();
  return { mem, flush, pt: new IoPgtable(mem, new Trace(), S390, {}, flush) };
}

describe('gart', () => {
  it('one flat table over a 32 MiB aperture at 0x58000000; entries are VALID | address', () => {
    const { pt } = gart();
    expect(pt.levels).toBe(1);
    expect(pt.map_pages(AP + 4 * K, 0x1234_5000, 4 * K, 1, 0)).toEqual({ ret: 0, mapped: 4 * K });
    expect(pt.tables()[0].entries).toEqual([
      {
        index: 1,
        raw_hi: 0,
        raw_lo: 0x9234_5000,
        decoded: expect.objectContaining({ type: 'page', pa: 0x1234_5000 }),
      },
    ]);
  });

  it('4K only, one page per call, inside the aperture: else -EINVAL (map) or 0 (unmap)', () => {
    const { pt } = gart();
    expect(pt.map_pages(AP, 0x1000_0000, 4 * K, 4, RW)).toEqual({ ret: 0, mapped: 4 * K });
    expect(pt.map_pages(AP - 4 * K, 0x1000_0000, 4 * K, 1, RW).ret).toBe(-EINVAL);
    expect(pt.map_pages(AP + 32 * M, 0x1000_0000, 4 * K, 1, RW).ret).toBe(-EINVAL);
    expect(pt.map_pages(AP, 0x1000_0000, 8 * K, 1, RW).ret).toBe(-EINVAL);
    expect(pt.unmap_pages(AP + 32 * M, 4 * K, 1, null)).toBe(0);
    expect(pt.unmap_pages(AP, 4 * K, 4, null)).toBe(4 * K);
  });

  it('iova_to_phys drops the page offset and answers (phys_addr_t)-EINVAL outside the aperture', () => {
    const { pt } = gart();
    pt.map_pages(AP, 0x1000_0000, 4 * K, 1, RW);
    expect(pt.iova_to_phys(AP + 0x123)).toBe(0x1000_0000);
    expect(pt.iova_to_phys(AP - 1)).toBe(0xffff_ffea);
    const w = new WalkResult();
    expect(pt.walk(AP + 0x123, w)).toBe(true);
    expect(w).toMatchObject({ iova_base: AP, pa_base: 0x1000_0000, size: 4 * K });
    expect(pt.walk(AP + 32 * M, w)).toBe(false);
  });

  it('overwrites a valid entry; unmapping an invalid one still returns 4K; bit 31 of pa is lost', () => {
    const { pt } = gart();
    pt.map_pages(AP, 0x1000_0000, 4 * K, 1, RW);
    expect(pt.map_pages(AP, 0x2000_0000, 4 * K, 1, RW).ret).toBe(0);
    expect(pt.iova_to_phys(AP)).toBe(0x2000_0000);
    expect(pt.unmap_pages(AP + 8 * K, 4 * K, 1, null)).toBe(4 * K);
    pt.map_pages(AP + 4 * K, 0x8000_1000, 4 * K, 1, RW);
    expect(pt.iova_to_phys(AP + 4 * K)).toBe(0x1000);
  });

  it('takes its aperture from the configuration', () => {
    const { pt } = gart({ aperture_start: 0x1000_0000, aperture_size: 8 * K });
    expect(pt.map_pages(0x1000_1000, 0, 4 * K, 1, RW).ret).toBe(0);
    expect(pt.map_pages(0x1000_2000, 0, 4 * K, 1, RW).ret).toBe(-EINVAL);
    expect(() => gart({ aperture_size: 100 })).toThrow(RangeError);
  });
});

describe('s390', () => {
  it('region/segment/page tables of 2048/2048/256 entries cover 2^42; new tables are filled with invalid entries', () => {
    const { pt, mem } = s390();
    expect(pt.levels).toBe(3);
    expect(pt.coverage()).toBe(2 ** 42);
    expect(pt.entries(2)).toBe(2048);
    expect(mem.read_u32(pt.root)).toBe(0x20);
    pt.map_pages(0x1000, 0x1_0000_0000, 4 * K, 1, RW);
    const [rt, st, ptab] = pt.tables();
    expect(rt.entries[0].raw_lo & 0x3f).toBe(0x7); // type RTX | length, valid
    expect(st.entries[0].raw_lo & 0x7ff).toBe(0);
    expect(ptab.entries[0]).toMatchObject({ index: 1, raw_lo: 0, raw_hi: 1 });
  });

  it('no WRITE sets PROTECTED; no READ, or a size other than 4K, is -EINVAL; past 2^42 is -ERANGE', () => {
    const { pt } = s390();
    pt.map_pages(0, 0x8000_0000, 4 * K, 1, IOMMU_READ);
    expect(pt.tables()[2].entries[0].raw_lo).toBe(0x8000_0200);
    const w = new WalkResult();
    pt.walk(0, w);
    expect(w.prot).toBe(IOMMU_READ);
    expect(pt.map_pages(0, 0, 4 * K, 1, IOMMU_WRITE).ret).toBe(-EINVAL);
    expect(pt.map_pages(0, 0, 8 * K, 1, RW).ret).toBe(-EINVAL);
    expect(pt.map_pages(2 ** 42 - 4 * K, 0, 4 * K, 2, RW).ret).toBe(-ERANGE);
  });

  it('unmap invalidates every page asked for, keeping the old address, and returns the whole size (no hole check)', () => {
    const { pt, flush } = s390();
    pt.map_pages(0, 0x8000_0000, 4 * K, 1, RW);
    expect(pt.unmap_pages(0, 4 * K, 3, 'g')).toBe(12 * K);
    expect(pt.tables()[2].entries.map((e) => [e.index, e.raw_lo])).toEqual([[0, 0x8000_0400]]);
    expect(pt.iova_to_phys(0)).toBe(0);
    expect(flush.pages).toEqual([[0, 12 * K]]);
    // A hole far away: tables are allocated to invalidate it, as dma_walk_cpu_trans does.
    const tables = pt.table_count;
    expect(pt.unmap_pages(64 * 1024 * M, 4 * K, 1, null)).toBe(4 * K);
    expect(pt.table_count).toBe(tables + 2);
  });

  it('iova_to_phys drops the page offset', () => {
    const { pt } = s390();
    pt.map_pages(0x5000, 0x8000_0000, 4 * K, 1, RW);
    expect(pt.iova_to_phys(0x5abc)).toBe(0x8000_0000);
  });

  it('running out of memory undoes the pages this call mapped and reports none', () => {
    const { pt, mem } = s390();
    pt.map_pages(0, 0x8000_0000, 4 * K, 1, RW);
    mem.fail_nth_alloc(1);
    // 300 pages cross into a second page table, whose allocation fails.
    expect(pt.map_pages(4 * K, 0x9000_0000, 4 * K, 300, RW)).toEqual({ ret: -ENOMEM, mapped: 0 });
    expect(pt.iova_to_phys(8 * K)).toBe(0);
    expect(pt.iova_to_phys(0)).toBe(0x8000_0000);
  });
});
