/** VT-d first-stage entry bits (facts §5.5), as __domain_mapping and pfn_to_dma_pte write them. */
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../mem/phys-mem.ts';
import { Trace } from '../../trace/trace.ts';
import { IoPgtable } from '../io-pgtable.ts';
import {
  IOMMU_CACHE,
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  WalkResult,
  type IoPgtableCfg,
  type TableEntryView,
} from '../types.ts';
import type { VtdFsFormat } from './vtd-fs.ts';
import { VTD_FS, VTD_FS_XD } from './vtd-fs.ts';
import { pgtable_format } from './index.ts';

const K = 1024;
const M = 1024 * K;
const RW = IOMMU_READ | IOMMU_WRITE;
// P | U/S | A, and R/W | D for writable leaves; PS on superpages.
const P_US_A = 0x25;
const RW_D = 0x42;
const PS = 0x80;

function make(fmt: VtdFsFormat = VTD_FS, cfg: Partial<IoPgtableCfg> = {}) {
  return new IoPgtable(new PhysMem(), new Trace(), fmt, cfg, null);
}

function entries(pt: IoPgtable, type: 'table' | 'leaf'): TableEntryView[] {
  return pt
    .tables()
    .flatMap((t) => t.entries)
    .filter((e) => (e.decoded.type === 'table') === (type === 'table'));
}

describe('vtd-fs', () => {
  it("is the registry's 'vtd-fs' and refuses anything but 4- or 5-level paging", () => {
    expect(pgtable_format('vtd-fs')).toBe(VTD_FS);
    expect(VTD_FS_XD.name).toBe('vtd-fs');
    expect(make(VTD_FS, { ias: 57 }).levels).toBe(5);
    expect(() => make(VTD_FS, { ias: 39 })).toThrow(/4- or 5-level/);
  });

  it('leaves: P|U/S|A always, R/W and D only when writable, PS on superpages; SNP never', () => {
    const pt = make();
    pt.map_pages(0, 0x8000_0000, 4 * K, 1, IOMMU_READ | IOMMU_CACHE);
    pt.map_pages(4 * K, 0x8000_1000, 4 * K, 1, RW);
    pt.map_pages(2 * M, 0x8020_0000, 2 * M, 1, RW);
    const low = entries(pt, 'leaf').map((e) => e.raw_lo & 0xfff);
    expect(low.sort((a, b) => a - b)).toEqual([P_US_A, P_US_A | RW_D, P_US_A | RW_D | PS]);
    expect(entries(pt, 'leaf').every((e) => e.raw_hi >>> 31 === 0)).toBe(true);
  });

  it('tables: P, R/W, U/S and A (pfn_to_dma_pte), no D', () => {
    const pt = make();
    pt.map_pages(0, 0x8000_0000, 4 * K, 1, IOMMU_READ);
    const tables = entries(pt, 'table');
    expect(tables).toHaveLength(3);
    for (const e of tables) {
      expect(e.raw_lo & 0xfff).toBe(0x27);
      expect(e.decoded.bits).toMatchObject({ P: 1, 'R/W': 1, 'U/S': 1, A: 1, XD: 0 });
      expect(e.decoded.bits).not.toHaveProperty('D');
    }
  });

  it('XD by era: set on tables and leaves before v6.11, and read back as IOMMU_NOEXEC', () => {
    const old = make(VTD_FS_XD);
    old.map_pages(0, 0x1_2345_6000, 4 * K, 1, RW);
    const all = [...entries(old, 'table'), ...entries(old, 'leaf')];
    expect(all.map((e) => e.decoded.bits.XD)).toEqual([1, 1, 1, 1]);
    // XD is not address: the table pointers and the output address survive it.
    expect(old.iova_to_phys(0x10)).toBe(0x1_2345_6010);
    const w = new WalkResult();
    expect(old.walk(0, w)).toBe(true);
    expect(w.prot).toBe(RW | IOMMU_NOEXEC);
    const now = make(VTD_FS);
    now.map_pages(0, 0x1_2345_6000, 4 * K, 1, RW);
    expect(now.walk(0, w)).toBe(true);
    expect(w.prot).toBe(RW);
  });

  it('a read-only leaf grants no writes; a write-only one is readable (P is the read permission)', () => {
    const pt = make();
    pt.map_pages(0, 0x8000_0000, 4 * K, 1, IOMMU_READ);
    pt.map_pages(4 * K, 0x8000_1000, 4 * K, 1, IOMMU_WRITE);
    const w = new WalkResult();
    expect(pt.walk(0, w)).toBe(true);
    expect(w.prot).toBe(IOMMU_READ);
    expect(pt.walk(4 * K, w)).toBe(true);
    expect(w.prot).toBe(RW);
    const ro = entries(pt, 'leaf').find((e) => e.decoded.pa === 0x8000_0000)!;
    expect(ro.decoded.bits).toMatchObject({ P: 1, 'R/W': 0, D: 0 });
  });
});
