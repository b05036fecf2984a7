/** AMD-Vi v1 quirks (facts §2.3, §5.6), as amd/io_pgtable.c behaves. */
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../mem/phys-mem.ts';
import { Trace } from '../../trace/trace.ts';
import { IoPgtable } from '../io-pgtable.ts';
import { FlushLog } from '../test-flush.ts';
import {
  EINVAL,
  ENOMEM,
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  WalkResult,
  type IoPgtableCfg,
} from '../types.ts';
import { AMD_V1 } from './amd-v1.ts';

const K = 1024;
const M = 1024 * K;
const G = 1024 * M;
const RW = IOMMU_READ | IOMMU_WRITE;

function make(cfg: Partial<IoPgtableCfg> = {}) {
  const mem = new PhysMem();
  const trace = new Trace();
  const flush = new FlushLog();
  return { mem, trace, flush, pt: new IoPgtable(mem, trace, AMD_V1, cfg, flush) };
}

function leaf_entries(pt: IoPgtable) {
  return pt.tables().flatMap((t) => t.entries.filter((e) => e.decoded.type !== 'table'));
}

describe('amd-v1', () => {
  it('the bitmap is every size from 4K to 2^51 except 512G (§5.6)', () => {
    const { pt } = make();
    expect(pt.cfg.pgsize_bitmap).toBe(2 ** 52 - 2 ** 12 - 2 ** 39);
    expect(pt.levels).toBe(3);
  });

  it('a default-size leaf: Present, NextLevel 0, FC, IR/IW at bits 61/62', () => {
    const { pt } = make();
    pt.map_pages(0x1000, 0x1_2345_6000, 4 * K, 1, IOMMU_READ);
    const [e] = leaf_entries(pt);
    expect(e.raw_lo).toBe(0x2345_6001);
    expect(e.raw_hi).toBe(0x1 | (1 << 28) | (1 << 29));
    const pde = pt.tables()[0].entries[0];
    expect(pde.raw_lo & 0xe01).toBe((2 << 9) | 1); // PDE in the level-3 root: NextLevel 2
    expect(pde.raw_hi >>> 29).toBe(3); // IR | IW
  });

  it('other sizes are NextLevel 7 with replicated entries and the size in the address bits (PAGE_SIZE_PTE)', () => {
    const { pt } = make();
    pt.map_pages(0x10_0000, 0x8000_0000, 8 * K, 1, RW);
    pt.map_pages(0x20_0000, 0x9000_0000, 16 * K, 1, RW);
    const e = leaf_entries(pt);
    expect(e).toHaveLength(2 + 4);
    expect(e.slice(0, 2).map((x) => x.raw_lo)).toEqual([0x8000_0e01, 0x8000_0e01]); // bit 12 clear: 8K
    expect(e.slice(2).every((x) => x.raw_lo === 0x9000_1e01)).toBe(true); // bit 12 set, 13 clear: 16K
    const w = new WalkResult();
    expect(pt.walk(0x20_3000, w)).toBe(true);
    expect(w).toMatchObject({ iova_base: 0x20_0000, pa_base: 0x9000_0000, size: 16 * K, level: 1 });
    expect(pt.iova_to_phys(0x20_3abc)).toBe(0x9000_3abc);
  });

  it('grows a level on top when an IOVA needs it, keeping what was mapped (increase_address_space)', () => {
    const { pt, flush } = make();
    pt.map_pages(0x1000, 0x8000_0000, 4 * K, 1, RW);
    expect(pt.map_pages(2 ** 40, 2 ** 41, 2 ** 30, 1, RW).ret).toBe(0);
    expect(pt.levels).toBe(4);
    expect(pt.map_pages(2 ** 50, 2 ** 41, 4 * K, 1, RW).ret).toBe(0);
    expect(pt.levels).toBe(5);
    expect(flush.roots.map(([, l]) => l)).toEqual([4, 5]);
    expect(pt.iova_to_phys(0x1234)).toBe(0x8000_0234);
    expect(pt.iova_to_phys(2 ** 40 + 5)).toBe(2 ** 41 + 5);
    const capped = make({ max_levels: 4 }).pt;
    expect(capped.map_pages(2 ** 48, 0, 4 * K, 1, RW).ret).toBe(-ENOMEM);
  });

  it('prot without IR/IW is -EINVAL; any power of two from 4K is accepted', () => {
    const { pt } = make();
    expect(pt.map_pages(0, 0, 4 * K, 1, IOMMU_CACHE).ret).toBe(-EINVAL);
    expect(pt.map_pages(0, 0, 2 * K, 1, RW).ret).toBe(-EINVAL);
    expect(pt.map_pages(512 * G, 0, 512 * G, 1, RW).ret).toBe(0);
  });

  it('a map over a present leaf overwrites it; a small map inside a larger leaf replaces the leaf by a table', () => {
    const { pt, flush } = make();
    pt.map_pages(0, 0x1000_0000, 4 * K, 1, RW);
    expect(pt.map_pages(0, 0x2000_0000, 4 * K, 1, RW).ret).toBe(0);
    expect(pt.iova_to_phys(0)).toBe(0x2000_0000);
    pt.map_pages(2 * M, 0x4000_0000, 2 * M, 1, RW);
    flush.changed.length = 0;
    expect(pt.map_pages(2 * M + 4 * K, 0x5000_0000, 4 * K, 1, RW).ret).toBe(0);
    expect(pt.iova_to_phys(2 * M)).toBe(0);
    expect(pt.iova_to_phys(2 * M + 4 * K)).toBe(0x5000_0000);
    expect(flush.changed[0]).toEqual([2 * M, 2 * M]);
  });

  it('unmap removes whole leaves, from the middle too, and may report more than asked (§2.3)', () => {
    const { pt } = make();
    pt.map_pages(2 * M, 0x4000_0000, 2 * M, 1, RW);
    expect(pt.unmap_pages(2 * M + 8 * K, 4 * K, 1, null)).toBe(2 * M);
    expect(pt.iova_to_phys(2 * M)).toBe(0);
    pt.map_pages(0, 0x1000_0000, 8 * K, 2, RW);
    expect(pt.unmap_pages(0, 4 * K, 3, null)).toBe(16 * K);
  });

  it('unmap walks over an empty last-level entry (fetch_pte) and never frees tables before free()', () => {
    const { pt, mem } = make();
    pt.map_pages(0, 0x1000_0000, 4 * K, 2, RW);
    pt.map_pages(12 * K, 0x1000_3000, 4 * K, 1, RW);
    const before = mem.allocated_bytes;
    // [8K, 12K) is empty but its table exists: counted as unmapped, and the walk goes on.
    expect(pt.unmap_pages(0, 4 * K, 4, null)).toBe(16 * K);
    expect(pt.iova_to_phys(12 * K)).toBe(0);
    expect(pt.unmap_pages(8 * K, 4 * K, 2, null)).toBe(8 * K);
    expect(mem.allocated_bytes).toBe(before);
    pt.free();
    expect(mem.allocated_bytes).toBe(0);
  });

  it('unmap stops where no last-level table exists', () => {
    const { pt } = make();
    pt.map_pages(2 * M - 4 * K, 0x1000_0000, 4 * K, 1, RW);
    // The next 2 MiB has no table below its level-1 entry: fetch_pte returns NULL there.
    expect(pt.unmap_pages(2 * M - 4 * K, 4 * K, 2, null)).toBe(4 * K);
    expect(pt.unmap_pages(4 * M, 4 * K, 1, null)).toBe(0);
  });
});
