/** OMAP short-descriptor quirks (facts §5.2), as omap-iommu.c behaves. */
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../mem/phys-mem.ts';
import { Trace } from '../../trace/trace.ts';
import { map_all } from '../core-loops.ts';
import { IoPgtable } from '../io-pgtable.ts';
import { EINVAL, IOMMU_READ, IOMMU_WRITE } from '../types.ts';
import { OMAP } from './omap.ts';

const K = 1024;
const M = 1024 * K;
const RW = IOMMU_READ | IOMMU_WRITE;

function make() {
  const mem = new PhysMem();
  return { mem, pt: new IoPgtable(mem, new Trace(), OMAP, {}, null) };
}

describe('omap', () => {
  it('L1 is 4096 entries in 16 KiB, 16 KiB aligned; bitmap 4K|64K|1M|16M (§5.2)', () => {
    const { pt } = make();
    expect(pt.entries(1)).toBe(4096);
    expect(pt.root % (16 * K)).toBe(0);
    expect(pt.cfg.pgsize_bitmap).toBe(4 * K + 64 * K + 1 * M + 16 * M);
  });

  it('descriptors: table 01, section 10, supersection 10 + bit 18 ×16, small page 10, large page 01 ×16', () => {
    const { pt } = make();
    pt.map_pages(0x0010_0000, 0x8010_0000, 1 * M, 1, RW);
    pt.map_pages(0x0100_0000, 0x8100_0000, 16 * M, 1, RW);
    pt.map_pages(0x0020_1000, 0x9000_1000, 4 * K, 1, RW);
    pt.map_pages(0x0021_0000, 0x9001_0000, 64 * K, 1, RW);
    const [l1, l2] = pt.tables();
    const raw = (t: typeof l1) => t.entries.map((e) => [e.index, e.raw_lo]);
    expect(raw(l1).slice(0, 3)).toEqual([
      [1, 0x8010_0002],
      [2, l2.pa | 1],
      [16, (0x8100_0000 | (1 << 18) | 2) >>> 0],
    ]);
    expect(raw(l1)).toHaveLength(2 + 16);
    expect(raw(l2)[0]).toEqual([1, 0x9000_1002]);
    expect(
      raw(l2)
        .slice(1)
        .every(([, v]) => v === 0x9001_0001),
    ).toBe(true);
    expect(raw(l2)).toHaveLength(17);
    expect(pt.iova_to_phys(0x0021_fabc)).toBe(0x9001_fabc);
    expect(pt.iova_to_phys(0x01ff_0004)).toBe(0x81ff_0004);
  });

  it('one page per map_pages call; other sizes are -EINVAL; prot is ignored', () => {
    const { pt } = make();
    expect(pt.map_pages(0, 0x8000_0000, 4 * K, 8, RW)).toEqual({ ret: 0, mapped: 4 * K });
    expect(pt.map_pages(0, 0x8000_0000, 8 * K, 1, RW).ret).toBe(-EINVAL);
    expect(pt.map_pages(1 * M, 0x8000_0000, 1 * M, 1, 0)).toEqual({ ret: 0, mapped: 1 * M });
  });

  it('IOVA and pa are 32-bit: higher bits are dropped', () => {
    const { pt } = make();
    pt.map_pages(0x1_0000_5000, 0x1_8000_5000, 4 * K, 1, RW);
    expect(pt.iova_to_phys(0x5010)).toBe(0x8000_5010);
  });

  it('unmap clears one entry per call, the whole 64K/16M group from its middle, and frees an empty L2 table', () => {
    const { pt, mem } = make();
    const empty = mem.allocated_bytes;
    pt.map_pages(0x40_0000, 0x8000_0000, 64 * K, 1, RW);
    expect(mem.allocated_bytes).toBe(empty + 4 * K);
    expect(pt.unmap_pages(0x40_8000, 4 * K, 1, null)).toBe(64 * K);
    expect(mem.allocated_bytes).toBe(empty);
    pt.map_pages(0x100_0000, 0x8100_0000, 16 * M, 1, RW);
    expect(pt.unmap_pages(0x150_0000, 1 * M, 1, null)).toBe(16 * M);
    expect(pt.mappings()).toEqual([]);
    map_all(pt, 0, 0x8000_0000, 4 * K, 3, RW);
    expect(pt.unmap_pages(0, 4 * K, 3, null)).toBe(4 * K);
  });

  it('a hole inside an L2 table still reports 4K; an empty L1 entry reports 0', () => {
    const { pt } = make();
    pt.map_pages(0, 0x8000_0000, 4 * K, 1, RW);
    expect(pt.unmap_pages(0x5000, 4 * K, 1, null)).toBe(4 * K);
    expect(pt.unmap_pages(0x30_0000, 4 * K, 1, null)).toBe(0);
  });

  it('a section stored over an L2 table leaks the table, as Linux does', () => {
    const { pt, mem } = make();
    pt.map_pages(0x20_0000, 0x8000_0000, 4 * K, 1, RW);
    const before = mem.allocated_bytes;
    expect(pt.map_pages(0x20_0000, 0x9000_0000, 1 * M, 1, RW).ret).toBe(0);
    expect(pt.iova_to_phys(0x20_0000)).toBe(0x9000_0000);
    pt.free();
    expect(mem.allocated_bytes).toBe(before - 16 * K);
    expect(mem.allocated_bytes).toBe(4 * K);
  });
});
