/** io-pgtable-arm stage-1 quirks, each citing IOMMU-FACTS.md. */
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../mem/phys-mem.ts';
import { Trace } from '../../trace/trace.ts';
import { map_all, unmap_all } from '../core-loops.ts';
import { IoPgtable } from '../io-pgtable.ts';
import { FlushLog } from '../test-flush.ts';
import {
  EINVAL,
  ENOMEM,
  ERANGE,
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  WalkResult,
  type IoPgtableCfg,
} from '../types.ts';
import { ARM_LPAE_S1 } from './arm-lpae-s1.ts';

const K = 1024;
const M = 1024 * K;
const G = 1024 * M;
const RW = IOMMU_READ | IOMMU_WRITE;

function make(cfg: Partial<IoPgtableCfg> = {}) {
  const mem = new PhysMem();
  const trace = new Trace();
  const flush = new FlushLog();
  const pt = new IoPgtable(mem, trace, ARM_LPAE_S1, cfg, flush);
  return { mem, trace, flush, pt };
}

/** The raw descriptor of the leaf mapping `iova`. */
function leaf_pte(pt: IoPgtable, iova: number): { lo: number; hi: number } {
  for (const t of pt.tables())
    for (const e of t.entries)
      if (e.decoded.type !== 'table' && e.decoded.type !== 'invalid') {
        const size = e.decoded.size;
        const start = t.iova + e.index * size;
        if (iova >= start && iova < start + size) return { lo: e.raw_lo, hi: e.raw_hi };
      }
  throw new Error('no leaf');
}

function names(trace: Trace): string[] {
  return Array.from({ length: trace.length }, (_, i) => trace.event(i).name);
}

describe('arm-lpae-s1 geometry (facts §5.4)', () => {
  it('4K granule, 48-bit input: four levels L0..L3 and 4K|2M|1G', () => {
    const { pt } = make();
    expect(pt.levels).toBe(4);
    expect(pt.cfg.pgsize_bitmap).toBe(4 * K + 2 * M + 1 * G);
    expect(pt.cfg.ias).toBe(48);
    expect(pt.native_level(pt.levels - 1)).toBe(0);
  });

  it('39-bit input starts at L1; 16K granule gives 16K|32M with a 2-entry L0; 64K with 52 bits has 3 levels', () => {
    expect(make({ ias: 39 }).pt.levels).toBe(3);
    const p16 = make({ granule: 16 * K }).pt;
    expect(p16.cfg.pgsize_bitmap).toBe(16 * K + 32 * M);
    expect(p16.levels).toBe(4);
    expect(p16.entries(3)).toBe(2);
    const p64 = make({ granule: 64 * K, ias: 52 }).pt;
    expect(p64.cfg.pgsize_bitmap).toBe(64 * K + 512 * M);
    expect(p64.levels).toBe(3);
  });

  it('derives the granule from the bitmap as Linux does and trims the bitmap to it', () => {
    expect(make({ pgsize_bitmap: 4 * K + 2 * M }).pt.cfg.pgsize_bitmap).toBe(4 * K + 2 * M);
    const p = make({ pgsize_bitmap: 64 * K + 2 * M + 512 * M }).pt;
    expect(p.cfg.granule).toBe(64 * K);
    expect(p.cfg.pgsize_bitmap).toBe(64 * K + 512 * M);
  });

  it('52-bit input only with the 64K granule: 4K and 16K cap ias at 48, as arm_lpae_restrict_pgsizes does', () => {
    for (const granule of [4 * K, 16 * K]) {
      const { pt } = make({ granule, ias: 52 });
      expect(pt.cfg.ias).toBe(48);
      expect(pt.levels).toBe(4);
      expect(pt.map_pages(2 ** 48, 0x10_0000, granule, 1, RW)).toEqual({ ret: -ERANGE, mapped: 0 });
      expect(pt.map_pages(2 ** 48 - granule, 0x10_0000, granule, 1, RW).ret).toBe(0);
    }
    const { pt } = make({ granule: 64 * K, ias: 52 });
    expect(pt.cfg.ias).toBe(52);
    expect(pt.map_pages(2 ** 48, 0x10_0000, 64 * K, 1, RW).ret).toBe(0);
  });

  it('refuses impossible configurations', () => {
    expect(() => make({ granule: 8 * K })).toThrow(RangeError);
    expect(() => make({ oas: 56 })).toThrow(/oas/);
  });
});

describe('arm-lpae-s1 descriptors (facts §5.4 PTE layout)', () => {
  it('encodes a read-write page: type 3, AF, nG, AP unprivileged, SH outer, AttrIndx 0, the address', () => {
    const { pt } = make();
    pt.map_pages(0x1000, 0x1_2345_6000, 4 * K, 1, RW);
    const { lo, hi } = leaf_pte(pt, 0x1000);
    expect(lo & 3).toBe(3);
    expect((lo >>> 2) & 7).toBe(0);
    expect((lo >>> 6) & 3).toBe(1); // AP[1] = unprivileged, AP[2] = 0 (writable)
    expect((lo >>> 8) & 3).toBe(2);
    expect((lo >>> 10) & 1).toBe(1);
    expect((lo >>> 11) & 1).toBe(1);
    expect((lo & ~0xfff) >>> 0).toBe(0x2345_6000);
    expect(hi).toBe(0x1);
  });

  it('CACHE gives AttrIndx 1 and inner shareable, MMIO AttrIndx 2, PRIV clears AP[1], READ alone sets AP[2], NOEXEC sets XN', () => {
    const { pt } = make();
    pt.map_pages(0x1000, 0x4000_0000, 4 * K, 1, RW | IOMMU_CACHE);
    pt.map_pages(0x2000, 0x4000_0000, 4 * K, 1, RW | IOMMU_MMIO);
    pt.map_pages(0x3000, 0x4000_0000, 4 * K, 1, IOMMU_READ | IOMMU_PRIV | IOMMU_NOEXEC);
    const a = leaf_pte(pt, 0x1000);
    expect((a.lo >>> 2) & 7).toBe(1);
    expect((a.lo >>> 8) & 3).toBe(3);
    expect((leaf_pte(pt, 0x2000).lo >>> 2) & 7).toBe(2);
    const c = leaf_pte(pt, 0x3000);
    expect((c.lo >>> 6) & 3).toBe(2);
    expect((c.hi >>> 21) & 3).toBe(3);
    const w = new WalkResult();
    expect(pt.walk(0x3004, w)).toBe(true);
    expect(w.prot).toBe(IOMMU_READ | IOMMU_PRIV | IOMMU_NOEXEC);
  });

  it('cannot express write-only: WRITE alone maps read-write', () => {
    const { pt } = make();
    pt.map_pages(0x1000, 0x4000_0000, 4 * K, 1, IOMMU_WRITE);
    const w = new WalkResult();
    pt.walk(0x1000, w);
    expect(w.prot & RW).toBe(RW);
  });

  it('blocks are type 1 at L2 (2M) and L1 (1G); the walk reports the level and the leaf base', () => {
    const { pt } = make();
    pt.map_pages(2 * M, 0x8000_0000, 2 * M, 1, RW);
    pt.map_pages(1 * G, 0x1_0000_0000, 1 * G, 1, RW);
    expect(leaf_pte(pt, 2 * M).lo & 3).toBe(1);
    const w = new WalkResult();
    expect(pt.walk(2 * M + 0x1234, w)).toBe(true);
    expect(w).toMatchObject({ iova_base: 2 * M, pa_base: 0x8000_0000, size: 2 * M, level: 2 });
    expect(pt.walk(1 * G + 5 * M, w)).toBe(true);
    expect(w).toMatchObject({ iova_base: 1 * G, pa_base: 0x1_0000_0000, size: 1 * G, level: 1 });
    expect(pt.walk(5 * G, w)).toBe(false);
  });

  it('panels decode every field by name', () => {
    const { pt } = make();
    pt.map_pages(0x1000, 0x4000_0000, 4 * K, 1, RW | IOMMU_CACHE);
    const leafTable = pt.tables().find((t) => t.level === 3)!;
    expect(leafTable.entries).toHaveLength(1);
    expect(leafTable.entries[0].decoded).toMatchObject({
      type: 'page',
      pa: 0x4000_0000,
      prot: RW | IOMMU_CACHE,
      bits: { type: 3, AttrIndx: 1, AP: 1, SH: 3, AF: 1, nG: 1, UXN: 0 },
    });
    expect(pt.tables()[0].entries[0].decoded.type).toBe('table');
  });
});

describe('arm-lpae-s1 map results (facts §2.5, §5.4)', () => {
  it('-EINVAL for a page size not in the bitmap, -ERANGE beyond ias or oas', () => {
    const { pt } = make();
    expect(pt.map_pages(0, 0, 8 * K, 1, RW).ret).toBe(-EINVAL);
    expect(pt.map_pages(2 ** 48, 0, 4 * K, 1, RW).ret).toBe(-ERANGE);
    expect(pt.map_pages(0, 2 ** 48, 4 * K, 1, RW).ret).toBe(-ERANGE);
  });

  it('prot without READ or WRITE: -EINVAL in new kernels, a successful map of nothing in old ones (facts §1.1)', () => {
    expect(make().pt.map_pages(0, 0x4000_0000, 4 * K, 1, IOMMU_CACHE)).toEqual({ ret: -EINVAL, mapped: 0 });
    const old = make({ prot_none_is_einval: false }).pt;
    expect(old.map_pages(0, 0x4000_0000, 4 * K, 1, IOMMU_CACHE)).toEqual({ ret: 0, mapped: 0 });
    expect(old.iova_to_phys(0)).toBe(0);
  });

  it('one map_pages call fills at most one table; the core loop does the rest', () => {
    const { pt, trace } = make();
    expect(pt.map_pages(0, 0x4000_0000, 4 * K, 1024, RW)).toEqual({ ret: 0, mapped: 2 * M });
    expect(map_all(pt, 2 * M, 0x4020_0000, 4 * K, 512, RW).ret).toBe(0);
    expect(names(trace).filter((n) => n === 'pgtable_map')).toHaveLength(2);
  });

  it('a block over a table of pages unmaps and frees the table, mappings and all', () => {
    const { pt, flush, mem } = make();
    map_all(pt, 2 * M, 0x4000_0000, 4 * K, 8, RW);
    const before = mem.allocated_bytes;
    expect(pt.map_pages(2 * M, 0x8000_0000, 2 * M, 1, RW).ret).toBe(0);
    expect(mem.allocated_bytes).toBe(before - 4 * K);
    expect(flush.walks).toEqual([[2 * M, 2 * M]]);
    expect(pt.iova_to_phys(2 * M + 4 * K)).toBe(0x8000_0000 + 4 * K);
  });

  it('-ENOMEM when a table cannot be allocated; tables already linked stay', () => {
    const { pt, mem } = make();
    mem.fail_nth_alloc(2);
    expect(pt.map_pages(0x1000, 0x4000_0000, 4 * K, 1, RW)).toEqual({ ret: -ENOMEM, mapped: 0 });
    expect(pt.table_count).toBe(2);
    expect(pt.map_pages(0x1000, 0x4000_0000, 4 * K, 1, RW).ret).toBe(0);
    pt.free();
    expect(mem.allocated_bytes).toBe(0);
  });
});

describe('arm-lpae-s1 unmap (facts §2.3, §5.4)', () => {
  it('the §2.3 example: [0,8K) and [12K,16K) mapped, unmap(0, 16K) returns 8K', () => {
    const { pt, trace } = make();
    map_all(pt, 0, 0x4000_0000, 4 * K, 2, RW);
    map_all(pt, 12 * K, 0x4000_3000, 4 * K, 1, RW);
    expect(pt.unmap_pages(0, 4 * K, 4, null)).toBe(8 * K);
    expect(pt.unmap_pages(8 * K, 4 * K, 2, null)).toBe(0);
    expect(names(trace).filter((n) => n === 'pgtable_unmap_hole')).toHaveLength(2);
    expect(pt.iova_to_phys(12 * K)).toBe(0x4000_3000);
  });

  it('gathers one page per leaf and reports the changed range once per run', () => {
    const { pt, flush } = make();
    map_all(pt, 0, 0x4000_0000, 4 * K, 3, RW);
    flush.changed.length = 0;
    expect(pt.unmap_pages(0, 4 * K, 3, 'g')).toBe(12 * K);
    expect(flush.pages).toEqual([
      [0, 4 * K],
      [4 * K, 4 * K],
      [8 * K, 4 * K],
    ]);
    expect(flush.changed).toEqual([[0, 12 * K]]);
  });

  it('unmapping a block-sized range over a table frees the table and returns the block size', () => {
    const { pt, flush, mem } = make();
    map_all(pt, 2 * M, 0x4000_0000, 4 * K, 4, RW);
    const before = mem.allocated_bytes;
    expect(pt.unmap_pages(2 * M, 2 * M, 1, null)).toBe(2 * M);
    expect(mem.allocated_bytes).toBe(before - 4 * K);
    expect(flush.walks).toEqual([[2 * M, 2 * M]]);
  });

  it('before v6.12 a freed table is not gathered, only flushed (__arm_lpae_unmap gathers leaves only)', () => {
    const { pt, flush } = make({ gather_tables_on_unmap: false });
    map_all(pt, 2 * M, 0x4000_0000, 4 * K, 1, RW);
    map_all(pt, 4 * M, 0x4000_0000, 2 * M, 1, RW);
    expect(pt.unmap_pages(2 * M, 2 * M, 2, 'g')).toBe(4 * M);
    expect(flush.walks).toEqual([[2 * M, 2 * M]]);
    expect(flush.pages).toEqual([[4 * M, 2 * M]]);
  });

  it('v6.12+ gathers every entry cleared, the freed table too (85b715a33458)', () => {
    const { pt, flush } = make({ gather_tables_on_unmap: true });
    map_all(pt, 2 * M, 0x4000_0000, 4 * K, 1, RW);
    expect(pt.unmap_pages(2 * M, 2 * M, 1, 'g')).toBe(2 * M);
    expect(flush.walks).toEqual([[2 * M, 2 * M]]);
    expect(flush.pages).toEqual([[2 * M, 2 * M]]);
  });

  it('v6.13+: a partial unmap of a block returns 0 and leaves it (pgtable_partial_unmap refused)', () => {
    const { pt, trace } = make();
    pt.map_pages(0, 0x8000_0000, 2 * M, 1, RW);
    expect(pt.unmap_pages(0, 4 * K, 1, null)).toBe(0);
    expect(pt.iova_to_phys(0)).toBe(0x8000_0000);
    const i = names(trace).indexOf('pgtable_partial_unmap');
    expect(trace.event(i)).toMatchObject({ size: 4 * K, leaf_size: 2 * M, action: 'refused' });
  });

  it('old kernels split a 1G block twice to unmap its first 4K page, keeping every other page', () => {
    const { pt, trace, mem } = make({ split_blocks_on_partial_unmap: true });
    pt.map_pages(1 * G, 0x1_0000_0000, 1 * G, 1, RW | IOMMU_CACHE);
    const tables = pt.table_count;
    expect(pt.unmap_pages(1 * G, 4 * K, 1, null)).toBe(4 * K);
    expect(pt.table_count).toBe(tables + 2);
    expect(names(trace).filter((n) => n === 'pgtable_split_blk_unmap')).toHaveLength(2);
    expect(pt.iova_to_phys(1 * G)).toBe(0);
    expect(pt.iova_to_phys(1 * G + 4 * K)).toBe(0x1_0000_1000);
    expect(pt.iova_to_phys(1 * G + 2 * M)).toBe(0x1_0020_0000);
    const w = new WalkResult();
    pt.walk(1 * G + 2 * M, w);
    expect(w).toMatchObject({ size: 2 * M, prot: RW | IOMMU_CACHE });
    expect(pt.mappings()).toEqual([
      { iova: 1 * G + 4 * K, pa: 0x1_0000_1000, size: 2 * M - 4 * K, prot: RW | IOMMU_CACHE, pgsize: 4 * K },
      { iova: 1 * G + 2 * M, pa: 0x1_0020_0000, size: 1 * G - 2 * M, prot: RW | IOMMU_CACHE, pgsize: 2 * M },
    ]);
    pt.free();
    expect(mem.allocated_bytes).toBe(0);
  });

  it('old kernels: unmapping a 2M part of a 1G block splits once and returns 2M', () => {
    const { pt } = make({ split_blocks_on_partial_unmap: true });
    pt.map_pages(0, 0x1_0000_0000, 1 * G, 1, RW);
    expect(unmap_all(pt, 4 * M, 2 * M, 2)).toBe(4 * M);
    expect(pt.iova_to_phys(4 * M)).toBe(0);
    expect(pt.iova_to_phys(6 * M)).toBe(0);
    expect(pt.iova_to_phys(8 * M)).toBe(0x1_0080_0000);
  });
});
