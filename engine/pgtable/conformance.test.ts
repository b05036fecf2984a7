/**
 * One test body over every format (and granule), as generic_pt's KUnit suite does: map every page
 * size and count the entries, read back a run, remap over a leaf, unmap a small page at the start
 * of a large one, stop at a hole, 1000 random rounds against an interval oracle, and a leak check.
 * Where formats legitimately differ the case says which rule applies (facts §2.3, §5).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../mem/phys-mem.ts';
import { Trace } from '../trace/trace.ts';
import { map_all, unmap_all } from './core-loops.ts';
import type { PgtableFormat } from './format.ts';
import { AMD_V1 } from './formats/amd-v1.ts';
import { ARM_LPAE_S1 } from './formats/arm-lpae-s1.ts';
import { GART } from './formats/gart.ts';
import { OMAP } from './formats/omap.ts';
import { S390 } from './formats/s390.ts';
import { VTD_FS, VTD_FS_XD } from './formats/vtd-fs.ts';
import { VTD_SL } from './formats/vtd-sl.ts';
import { IoPgtable } from './io-pgtable.ts';
import { EEXIST, IOMMU_READ, IOMMU_WRITE, type IoPgtableCfg } from './types.ts';

const K = 1024;
const M = 1024 * K;
const G = 1024 * M;
const RW = IOMMU_READ | IOMMU_WRITE;

interface Case {
  name: string;
  fmt: PgtableFormat;
  cfg: Partial<IoPgtableCfg>;
  /** Page sizes to map one each (all the format has, or a spread of them). */
  sizes: number[];
  /** Sizes the random rounds use. */
  random_sizes: number[];
  /** IOVA the tests work from, and the window the random rounds use. */
  base: number;
  window: number;
  /** Mapping over a present leaf: refused, old one kept (WARN), or overwritten. */
  remap: 'eexist' | 'kept' | 'replaced';
  /** Unmapping the smallest page at the start of the second size. */
  partial: 'refused' | 'split' | 'whole' | 'none';
  /** Unmapping a page that was never mapped, next to a mapped one. */
  hole: 'zero' | 'counted';
  /** iova_to_phys drops the offset inside the page. */
  page_only?: boolean;
  /** Physical base for the mappings (below 4 GiB, or 2 GiB, for 32-bit formats). */
  pa?: number;
}

const CASES: Case[] = [
  {
    name: 'arm-lpae-s1 4K',
    fmt: ARM_LPAE_S1,
    cfg: {},
    sizes: [4 * K, 2 * M, 1 * G],
    random_sizes: [4 * K, 4 * K, 2 * M],
    base: 0,
    window: 4 * G,
    remap: 'eexist',
    partial: 'refused',
    hole: 'zero',
  },
  {
    name: 'arm-lpae-s1 4K, old kernel (split blocks)',
    fmt: ARM_LPAE_S1,
    cfg: { split_blocks_on_partial_unmap: true },
    sizes: [4 * K, 2 * M, 1 * G],
    random_sizes: [4 * K, 2 * M],
    base: 0,
    window: 4 * G,
    remap: 'eexist',
    partial: 'split',
    hole: 'zero',
  },
  {
    name: 'arm-lpae-s1 16K',
    fmt: ARM_LPAE_S1,
    cfg: { granule: 16 * K },
    sizes: [16 * K, 32 * M],
    random_sizes: [16 * K, 16 * K, 32 * M],
    base: 0,
    window: 4 * G,
    remap: 'eexist',
    partial: 'refused',
    hole: 'zero',
  },
  {
    name: 'arm-lpae-s1 64K',
    fmt: ARM_LPAE_S1,
    cfg: { granule: 64 * K, ias: 52 },
    sizes: [64 * K, 512 * M],
    random_sizes: [64 * K, 64 * K, 512 * M],
    base: 0,
    window: 16 * G,
    remap: 'eexist',
    partial: 'refused',
    hole: 'zero',
  },
  {
    name: 'vtd-sl 4-level',
    fmt: VTD_SL,
    cfg: {},
    sizes: [4 * K, 2 * M, 1 * G],
    random_sizes: [4 * K, 4 * K, 2 * M],
    base: 0,
    window: 4 * G,
    remap: 'kept',
    partial: 'whole',
    hole: 'counted',
  },
  {
    name: 'vtd-sl 3-level without superpages',
    fmt: VTD_SL,
    cfg: { ias: 39, sllps: 0 },
    sizes: [4 * K],
    random_sizes: [4 * K],
    base: 0,
    window: 1 * G,
    remap: 'kept',
    partial: 'none',
    hole: 'counted',
  },
  {
    name: 'vtd-fs 4-level (first stage, v6.11+)',
    fmt: VTD_FS,
    cfg: {},
    sizes: [4 * K, 2 * M, 1 * G],
    random_sizes: [4 * K, 4 * K, 2 * M],
    base: 0,
    window: 4 * G,
    remap: 'kept',
    partial: 'whole',
    hole: 'counted',
  },
  {
    name: 'vtd-fs 5-level with XD (first stage, before v6.11), 2M only',
    fmt: VTD_FS_XD,
    cfg: { ias: 57, sllps: 1 },
    sizes: [4 * K, 2 * M],
    random_sizes: [4 * K, 4 * K, 2 * M],
    base: 0,
    window: 4 * G,
    remap: 'kept',
    partial: 'whole',
    hole: 'counted',
  },
  {
    name: 'amd-v1',
    fmt: AMD_V1,
    cfg: {},
    sizes: [4 * K, 8 * K, 64 * K, 2 * M, 4 * M, 1 * G, 2 * G, 2 ** 40],
    random_sizes: [4 * K, 8 * K, 64 * K, 2 * M],
    base: 0,
    window: 4 * G,
    remap: 'replaced',
    partial: 'whole',
    hole: 'counted', // fetch_pte does not check presence in a last-level table
    pa: 2 ** 41,
  },
  {
    name: 'omap',
    fmt: OMAP,
    cfg: {},
    sizes: [4 * K, 64 * K, 1 * M, 16 * M],
    random_sizes: [4 * K, 4 * K, 64 * K, 1 * M],
    base: 0,
    window: 1 * G,
    remap: 'replaced',
    partial: 'whole',
    hole: 'counted',
    pa: 0x8000_0000,
  },
  {
    name: 'gart',
    fmt: GART,
    cfg: {},
    sizes: [4 * K],
    random_sizes: [4 * K],
    base: 0x5800_0000,
    window: 32 * M,
    remap: 'replaced',
    partial: 'none',
    hole: 'counted',
    page_only: true,
    pa: 0x1000_0000,
  },
  {
    name: 's390',
    fmt: S390,
    cfg: {},
    sizes: [4 * K],
    random_sizes: [4 * K],
    base: 0,
    window: 4 * G,
    remap: 'replaced',
    partial: 'none',
    hole: 'counted',
    page_only: true,
  },
];

function setup(c: Case) {
  const mem = new PhysMem();
  const trace = new Trace();
  const pt = new IoPgtable(mem, trace, c.fmt, c.cfg, null);
  return { mem, trace, pt };
}

/** What iova_to_phys should say for a mapping at (iova → pa). */
function expected_phys(c: Case, pa: number, off: number): number {
  return c.page_only ? pa + Math.floor(off / 4096) * 4096 : pa + off;
}

/** Leaf entries (replicas counted) in the whole tree. */
function count_leaf_entries(pt: IoPgtable): number {
  let n = 0;
  for (const t of pt.tables())
    for (const e of t.entries) if (e.decoded.type === 'page' || e.decoded.type === 'block') n++;
  return n;
}

for (const c of CASES) {
  // A physical base aligned for every size used.
  const PA = c.pa ?? 0x8_0000_0000;
  describe(`conformance: ${c.name}`, () => {
    it('maps every page size as one leaf of that size', () => {
      for (const size of c.sizes) {
        const { pt, mem } = setup(c);
        const iova = c.base + (c.base % size === 0 ? size : size - (c.base % size));
        const r = map_all(pt, iova, PA, size, 1, RW);
        expect(r, `map ${size}`).toEqual({ ret: 0, mapped: size });
        expect(pt.mappings()).toEqual([{ iova, pa: PA, size, prot: pt.mappings()[0].prot, pgsize: size }]);
        const min = [...pt.leaves()][0].size;
        expect(min).toBe(size);
        // Replicated formats (amd-v1, omap) write size / entry-size identical entries.
        const entry = 2 ** pt.shift[pt.leaf_level(Math.log2(size))];
        expect(count_leaf_entries(pt)).toBe(size / entry);
        expect(pt.iova_to_phys(iova + size / 2 + 8)).toBe(expected_phys(c, PA, size / 2 + 8));
        expect(pt.iova_to_phys(iova + size)).toBe(0);
        expect(unmap_all(pt, iova, size, 1)).toBe(size);
        expect(pt.iova_to_phys(iova)).toBe(0);
        pt.free();
        expect(mem.allocated_bytes).toBe(0);
      }
    });

    it('maps a run across a table boundary and reads every page back', () => {
      const { pt } = setup(c);
      const pg = c.sizes[0];
      const entries = pt.entries(pt.leaf_level(Math.log2(pg)));
      const count = Math.min(entries + entries / 2, 2000);
      const iova = c.base + (entries / 2) * pg;
      expect(map_all(pt, iova, PA, pg, count, RW)).toEqual({ ret: 0, mapped: count * pg });
      for (let i = 0; i < count; i++)
        expect(pt.iova_to_phys(iova + i * pg + 4)).toBe(expected_phys(c, PA + i * pg, 4));
      expect(pt.iova_to_phys(iova - pg)).toBe(0);
      expect(pt.iova_to_phys(iova + count * pg)).toBe(0);
      const m = pt.mappings();
      expect(m).toHaveLength(1);
      expect(m[0]).toMatchObject({ iova, pa: PA, size: count * pg, pgsize: pg });
    });

    it(`remapping over a present leaf: ${c.remap}`, () => {
      const { pt } = setup(c);
      const pg = c.sizes[0];
      const iova = c.base + 16 * pg;
      expect(map_all(pt, iova, PA, pg, 1, RW).ret).toBe(0);
      const r = pt.map_pages(iova, PA + 0x10_0000, pg, 1, RW);
      if (c.remap === 'eexist') {
        expect(r.ret).toBe(-EEXIST);
        expect(pt.iova_to_phys(iova)).toBe(PA);
      } else {
        expect(r.ret).toBe(0);
        expect(pt.iova_to_phys(iova)).toBe(c.remap === 'kept' ? PA : PA + 0x10_0000);
      }
    });

    if (c.partial !== 'none') {
      it(`unmapping a small page at the start of a large one: ${c.partial}`, () => {
        const { pt } = setup(c);
        const small = c.sizes[0];
        const large = c.sizes[1];
        const iova = c.base + large;
        expect(map_all(pt, iova, PA, large, 1, RW).ret).toBe(0);
        const got = pt.unmap_pages(iova, small, 1, null);
        if (c.partial === 'refused') {
          expect(got).toBe(0);
          expect(pt.iova_to_phys(iova)).toBe(PA);
        } else if (c.partial === 'split') {
          expect(got).toBe(small);
          expect(pt.iova_to_phys(iova)).toBe(0);
          expect(pt.iova_to_phys(iova + small)).toBe(PA + small);
          expect(pt.iova_to_phys(iova + large - 1)).toBe(PA + large - 1);
        } else {
          expect(got).toBe(large);
          expect(pt.iova_to_phys(iova + small)).toBe(0);
        }
      });
    }

    it(`a hole in an unmap: ${c.hole === 'zero' ? 'stops it' : 'is counted as unmapped'}`, () => {
      const { pt } = setup(c);
      const pg = c.sizes[0];
      const iova = c.base + 64 * pg;
      // [page][page][hole][page]
      expect(map_all(pt, iova, PA, pg, 2, RW).ret).toBe(0);
      expect(map_all(pt, iova + 3 * pg, PA + 3 * pg, pg, 1, RW).ret).toBe(0);
      expect(pt.unmap_pages(iova + 2 * pg, pg, 1, null)).toBe(c.hole === 'zero' ? 0 : pg);
      const done = unmap_all(pt, iova, pg, 4);
      if (c.hole === 'zero') {
        expect(done).toBe(2 * pg);
        expect(pt.iova_to_phys(iova + 3 * pg)).not.toBe(0);
      } else {
        expect(done).toBe(4 * pg);
        expect(pt.iova_to_phys(iova + 3 * pg)).toBe(0);
      }
    });

    it('1000 random map/unmap rounds agree with an interval oracle, then free() leaks nothing', () => {
      const sizes = c.random_sizes;
      const op = fc.record({
        map: fc.boolean(),
        size: fc.nat(sizes.length - 1),
        count: fc.integer({ min: 1, max: 4 }),
        slot: fc.nat(),
        pick: fc.nat(),
      });
      fc.assert(
        fc.property(fc.array(op, { minLength: 250, maxLength: 250 }), (ops) => {
          const { pt, mem } = setup(c);
          const live: { iova: number; pa: number; size: number; pgsize: number }[] = [];
          let pa_next = PA;
          for (const o of ops) {
            if (o.map || live.length === 0) {
              const pg = sizes[o.size];
              const count = pg >= 1 * G ? 1 : o.count;
              const slots = Math.floor(c.window / pg) - count;
              const iova = c.base + (o.slot % slots) * pg;
              const size = pg * count;
              if (live.some((l) => iova < l.iova + l.size && l.iova < iova + size)) continue;
              pa_next = Math.ceil(pa_next / pg) * pg;
              const r = map_all(pt, iova, pa_next, pg, count, RW);
              expect(r).toEqual({ ret: 0, mapped: size });
              live.push({ iova, pa: pa_next, size, pgsize: pg });
              pa_next += size + pg;
            } else {
              const i = o.pick % live.length;
              const l = live[i];
              expect(unmap_all(pt, l.iova, l.pgsize, l.size / l.pgsize)).toBe(l.size);
              live.splice(i, 1);
            }
          }
          // The tree holds exactly the oracle's leaves, and translations agree.
          const want = live
            .flatMap((l) =>
              Array.from({ length: l.size / l.pgsize }, (_, k) => ({
                iova: l.iova + k * l.pgsize,
                pa: l.pa + k * l.pgsize,
                size: l.pgsize,
              })),
            )
            .sort((a, b) => a.iova - b.iova);
          const got = [...pt.leaves()].map((l) => ({ iova: l.iova, pa: l.pa, size: l.size }));
          expect(got).toEqual(want);
          for (const l of live.slice(0, 40)) {
            expect(pt.iova_to_phys(l.iova + l.size - 8)).toBe(expected_phys(c, l.pa, l.size - 8));
            if (!live.some((m) => m.iova === l.iova + l.size))
              expect(pt.iova_to_phys(l.iova + l.size)).toBe(0);
          }
          pt.free();
          expect(mem.allocated_bytes).toBe(0);
        }),
        { numRuns: 4, seed: 0x10a1 },
      );
    });

    it('free() returns every table page', () => {
      const { pt, mem } = setup(c);
      for (let i = 0; i < c.sizes.length; i++)
        expect(map_all(pt, c.base + (i + 1) * c.sizes[c.sizes.length - 1], PA, c.sizes[i], 3, RW).ret).toBe(
          0,
        );
      expect(mem.allocated_bytes).toBeGreaterThan(0);
      expect(mem.allocated_bytes).toBe(mem.pages().reduce((s, p) => s + p.size, 0));
      pt.free();
      expect(mem.allocated_bytes).toBe(0);
      expect(pt.root).toBe(0);
    });
  });
}
