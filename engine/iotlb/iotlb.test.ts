import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LeafWalker, WalkResult } from '../pgtable/types.ts';
import { Trace } from '../trace/trace.ts';
import { Iotlb } from './iotlb.ts';

const K = 1024;
const M = 1024 * K;
const G = 1024 * M;

function names(trace: Trace): string[] {
  return Array.from({ length: trace.length }, (_, i) => trace.event(i).name);
}

describe('Iotlb lookups', () => {
  it('hits inside an entry of the right tag, misses elsewhere', () => {
    const tlb = new Iotlb(8, new Trace());
    const i = tlb.insert(1, 0x1000, 4 * K, 0x8000_0000, 3);
    expect(tlb.lookup(1, 0x1234)).toBe(i);
    expect(tlb.lookup(1, 0x1fff)).toBe(i);
    expect(tlb.lookup(2, 0x1234)).toBe(-1);
    expect(tlb.lookup(1, 0x2000)).toBe(-1);
    expect(tlb.lookup(1, 0xfff)).toBe(-1);
    expect([tlb.iova_of(i), tlb.size_of(i), tlb.pa_of(i), tlb.prot_of(i), tlb.tag_of(i)]).toEqual([
      0x1000,
      4 * K,
      0x8000_0000,
      3,
      1,
    ]);
    expect(tlb.is_stale(i) || tlb.is_negative(i)).toBe(false);
  });

  it('finds entries of every size present: 2M and 1G blocks, an AMD 8K page, a 2^40 page', () => {
    const tlb = new Iotlb(16, new Trace());
    const a = tlb.insert(1, 2 * M, 2 * M, 0x4000_0000, 1);
    const b = tlb.insert(1, 4 * G, 1 * G, 0x1_0000_0000, 3);
    const c = tlb.insert(1, 0x10_0000 + 8 * K, 8 * K, 0x9000_0000, 3);
    const d = tlb.insert(1, 2 ** 41, 2 ** 40, 2 ** 42, 3);
    expect(tlb.lookup(1, 2 * M + 0x1f_ffff)).toBe(a);
    expect(tlb.lookup(1, 4 * G + 0x3fff_ffff)).toBe(b);
    expect(tlb.lookup(1, 0x10_0000 + 12 * K)).toBe(c);
    expect(tlb.lookup(1, 2 ** 41 + 2 ** 39)).toBe(d);
    expect(tlb.lookup(1, 4 * M)).toBe(-1);
  });

  it('answers a repeated lookup from the entry found last only while that entry still covers it', () => {
    const tlb = new Iotlb(2, new Trace());
    const a = tlb.insert(1, 0x1000, 4 * K, 0x8000_0000, 3);
    expect(tlb.lookup(1, 0x1010)).toBe(a);
    expect(tlb.lookup(1, 0x1ff0)).toBe(a);
    expect(tlb.lookup(1, 0x2000)).toBe(-1);
    expect(tlb.lookup(2, 0x1010)).toBe(-1);
    // Evicted, and its entry reused for another page: the old page misses, the new one hits.
    const b = tlb.insert(1, 0x5000, 4 * K, 0x8000_5000, 3);
    const c = tlb.insert(1, 0x9000, 4 * K, 0x8000_9000, 3);
    expect(c).toBe(a);
    expect(tlb.lookup(1, 0x1010)).toBe(-1);
    expect(tlb.lookup(1, 0x9010)).toBe(c);
    expect(tlb.lookup(1, 0x5010)).toBe(b);
    // Two sizes: a 4K entry inside a 2M one answers for its page, the 2M one for the rest.
    const big = new Iotlb(4, new Trace());
    const m = big.insert(3, 0, 2 * M, 0x4000_0000, 3);
    expect(big.lookup(3, 0x3010)).toBe(m);
    const k = big.insert(3, 0x3000, 4 * K, 0x9000_0000, 1);
    expect(big.lookup(3, 0x3010)).toBe(k);
    expect(big.lookup(3, 0x4010)).toBe(m);
    expect(big.lookup(3, 0x3020)).toBe(k);
    big.invalidate_range(3, 0x3000, 4 * K);
    expect(big.lookup(3, 0x3010)).toBe(-1);
    big.invalidate_range(3, 0, 8 * K);
    expect(big.lookup(3, 0x4010)).toBe(-1);
  });

  it('replaces an entry with the same tag, base and size in place', () => {
    const trace = new Trace();
    const tlb = new Iotlb(4, trace);
    const i = tlb.insert(7, 0, 4 * K, 0x1000, 1);
    expect(tlb.insert(7, 0, 4 * K, 0x2000, 3)).toBe(i);
    expect(tlb.count).toBe(1);
    expect(tlb.pa_of(i)).toBe(0x2000);
    expect(names(trace)).toEqual(['iotlb_insert', 'iotlb_insert']);
  });

  it("names its instance in every event, so two IOMMUs' IOTLBs can be told apart", () => {
    const trace = new Trace();
    const a = new Iotlb(1, trace, 'smmu0');
    const b = new Iotlb(1, trace, 'smmu1');
    a.insert(1, 0, 4 * K, 0x1000, 1);
    b.insert(1, 0, 4 * K, 0x1000, 1);
    b.insert(1, 4 * K, 4 * K, 0x2000, 1); // evicts
    b.invalidate_all();
    expect(
      Array.from({ length: trace.length }, (_, i) => [trace.event(i).name, trace.event(i).iommu]),
    ).toEqual([
      ['iotlb_insert', 'smmu0'],
      ['iotlb_insert', 'smmu1'],
      ['iotlb_evict', 'smmu1'],
      ['iotlb_insert', 'smmu1'],
      ['iotlb_invalidate_all', 'smmu1'],
    ]);
  });

  it('validates what it is given', () => {
    const tlb = new Iotlb(4, new Trace());
    expect(() => tlb.insert(1, 0x1000, 3000, 0, 1)).toThrow(/power of two/);
    expect(() => tlb.insert(1, 0x1000, 8 * K, 0, 1)).toThrow(/aligned/);
    expect(() => tlb.insert(-1, 0, 4 * K, 0, 1)).toThrow(/tag/);
    expect(() => new Iotlb(0, new Trace())).toThrow(RangeError);
  });
});

describe('Iotlb replacement', () => {
  it('evicts the least recently used entry, a hit counting as a use', () => {
    const trace = new Trace();
    const tlb = new Iotlb(4, trace);
    for (let p = 0; p < 4; p++) tlb.insert(1, p * 4 * K, 4 * K, 0x10_0000 + p * 4 * K, 3);
    expect(tlb.lookup(1, 0)).toBeGreaterThanOrEqual(0); // page 0 is now most recent; page 1 the oldest
    tlb.insert(1, 0x10_0000, 4 * K, 0, 3);
    expect(tlb.lookup(1, 4 * K)).toBe(-1);
    expect(tlb.lookup(1, 0)).toBeGreaterThanOrEqual(0);
    const ev = trace.event(names(trace).indexOf('iotlb_evict'));
    expect(ev).toMatchObject({ tag: 1, iova: 4 * K, size: 4 * K, stale: false });
    // Then pages 2, 3 (never used since) go next, oldest first.
    tlb.insert(1, 0x20_0000, 4 * K, 0, 3);
    expect(tlb.lookup(1, 8 * K)).toBe(-1);
    expect(tlb.lookup(1, 12 * K)).toBeGreaterThanOrEqual(0);
  });

  it('is deterministic: the same operations give the same entries and order', () => {
    const run = () => {
      const tlb = new Iotlb(8, new Trace());
      for (let i = 0; i < 100; i++) {
        tlb.insert(i % 3, ((i * 37) % 20) * 4 * K, 4 * K, i * 4 * K, 3);
        tlb.lookup(i % 3, ((i * 11) % 20) * 4 * K);
      }
      return [tlb.entries(), tlb.lru_order()];
    };
    expect(run()).toEqual(run());
  });
});

describe('Iotlb stale marking and invalidation', () => {
  function filled() {
    const trace = new Trace();
    const tlb = new Iotlb(16, trace);
    tlb.insert(1, 0, 4 * K, 0x1000, 3);
    tlb.insert(1, 4 * K, 4 * K, 0x2000, 3);
    tlb.insert(1, 2 * M, 2 * M, 0x40_0000, 3);
    tlb.insert(2, 0, 4 * K, 0x9000, 3);
    return { tlb, trace };
  }

  it('mark_stale touches only entries of that tag overlapping the range, by probe or by scan', () => {
    const { tlb, trace } = filled();
    expect(tlb.mark_stale(1, 0x800, 0x1000)).toBe(2);
    expect(tlb.is_stale(tlb.lookup(1, 0))).toBe(true);
    expect(tlb.is_stale(tlb.lookup(1, 4 * K))).toBe(true);
    expect(tlb.is_stale(tlb.lookup(2, 0))).toBe(false);
    expect(tlb.is_stale(tlb.lookup(1, 2 * M))).toBe(false);
    expect(tlb.mark_stale(1, 0x800, 0x1000)).toBe(0);
    // A range far bigger than the TLB: a scan instead of probes, same answer.
    expect(tlb.mark_stale(1, 0, 1 * G)).toBe(1);
    expect(trace.event(names(trace).lastIndexOf('iotlb_mark_stale'))).toMatchObject({ tag: 1, count: 1 });
    expect(new Iotlb(4, new Trace()).mark_stale(1, 0, 4 * K)).toBe(0);
  });

  /** A table holding the given leaves, as mark_stale reads one (IoPgtable.walk's contract). */
  function table(leaves: { iova: number; size: number; pa: number; prot: number }[]): LeafWalker {
    return {
      walk(iova: number, out: WalkResult): boolean {
        const l = leaves.find((x) => iova >= x.iova && iova < x.iova + x.size);
        if (!l) return false;
        Object.assign(out, { iova_base: l.iova, pa_base: l.pa, size: l.size, prot: l.prot });
        return true;
      },
    };
  }

  it('with the table a map wrote, an entry caching exactly its leaf stays or becomes clean; others go stale', () => {
    const { tlb, trace } = filled();
    // The 4K at 0 written again with the same pa and prot; the one at 4K with another pa; the 2M
    // block as 4K pages (another size): only the first still matches.
    const now = table([
      { iova: 0, size: 4 * K, pa: 0x1000, prot: 3 },
      { iova: 4 * K, size: 4 * K, pa: 0x7000, prot: 3 },
      { iova: 2 * M, size: 4 * K, pa: 0x40_0000, prot: 3 },
    ]);
    expect(tlb.mark_stale(1, 0, 4 * M, now)).toBe(2);
    const stale = () =>
      tlb
        .entries()
        .filter((e) => e.tag === 1)
        .map((e) => [e.iova, e.stale]);
    expect(stale()).toEqual([
      [0, false],
      [4 * K, true],
      [2 * M, true],
    ]);
    // Unmapped without an invalidation, then mapped back the same: current again, and the trace says so.
    tlb.mark_stale(1, 0, 4 * K);
    expect(tlb.is_stale(tlb.peek(1, 0))).toBe(true);
    expect(tlb.mark_stale(1, 0, 4 * K, now)).toBe(0);
    expect(tlb.is_stale(tlb.peek(1, 0))).toBe(false);
    expect(trace.event(trace.length - 1)).toMatchObject({
      name: 'iotlb_revalidate',
      tag: 1,
      iova: 0,
      count: 1,
    });
    // Another prot is another translation; so is a not-present entry the map reached.
    const ro = table([{ iova: 0, size: 4 * K, pa: 0x1000, prot: 1 }]);
    expect(tlb.mark_stale(1, 0, 4 * K, ro)).toBe(1);
    tlb.insert(3, 8 * K, 4 * K, 0, 0, true);
    expect(tlb.mark_stale(3, 8 * K, 4 * K, table([]))).toBe(1);
    // By scan (a range far bigger than the TLB), the same answers.
    tlb.insert(1, 0, 4 * K, 0x1000, 3);
    tlb.mark_stale(1, 0, 4 * K);
    expect(tlb.mark_stale(1, 0, 1 * G, now)).toBe(0);
    expect(stale()).toEqual([
      [0, false],
      [4 * K, true],
      [2 * M, true],
    ]);
  });

  it('a stale entry still hits until invalidated', () => {
    const { tlb } = filled();
    tlb.mark_stale(1, 2 * M + 4 * K, 4 * K);
    const i = tlb.lookup(1, 2 * M + 0x123);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(tlb.is_stale(i)).toBe(true);
    expect(tlb.entries().find((e) => e.size === 2 * M)).toMatchObject({ stale: true });
  });

  it('invalidate_range removes overlapping entries of one tag and counts them', () => {
    const { tlb } = filled();
    expect(tlb.invalidate_range(1, 4 * K, 2 * M)).toBe(2);
    expect(tlb.lookup(1, 0)).toBeGreaterThanOrEqual(0);
    expect(tlb.lookup(1, 4 * K)).toBe(-1);
    expect(tlb.lookup(1, 2 * M)).toBe(-1);
    expect(tlb.stats.invalidations).toBe(2);
    expect(tlb.invalidate_range(1, 0, 2 ** 40)).toBe(1);
    expect(tlb.count).toBe(1);
  });

  it('invalidate_range_all_tags, invalidate_tag and invalidate_all', () => {
    const { tlb, trace } = filled();
    expect(tlb.invalidate_range_all_tags(0, 4 * K)).toBe(2);
    expect(trace.event(trace.length - 1)).toMatchObject({
      name: 'iotlb_invalidate_range',
      tag: -1,
      removed: 2,
    });
    expect(tlb.invalidate_tag(1)).toBe(2);
    expect(tlb.count).toBe(0);
    const again = filled().tlb;
    expect(again.invalidate_all()).toBe(4);
    expect(again.entries()).toEqual([]);
    expect(again.lookup(1, 0)).toBe(-1);
    again.insert(3, 0, 4 * K, 0, 1);
    expect(again.lookup(3, 0)).toBeGreaterThanOrEqual(0);
    expect(again.stats.invalidations).toBe(4);
  });

  it('negative entries cache a not-present translation', () => {
    const trace = new Trace();
    const tlb = new Iotlb(4, trace);
    const i = tlb.insert(1, 0x5000, 4 * K, 0x1234_5000, 3, true);
    expect(tlb.is_negative(i)).toBe(true);
    expect(tlb.pa_of(i)).toBe(0);
    expect(tlb.entries()).toEqual([
      { tag: 1, iova: 0x5000, size: 4 * K, pa: 0, prot: 0, stale: false, negative: true },
    ]);
    expect(names(trace)).toEqual(['iotlb_insert_negative']);
  });

  it('entries() lists by tag, then IOVA', () => {
    const { tlb } = filled();
    expect(tlb.entries().map((e) => [e.tag, e.iova])).toEqual([
      [1, 0],
      [1, 4 * K],
      [1, 2 * M],
      [2, 0],
    ]);
  });
});

describe('Iotlb hash table', () => {
  it('agrees with a plain model over random inserts, lookups and invalidations', () => {
    const op = fc.record({ kind: fc.nat(9), tag: fc.nat(2), page: fc.nat(63), big: fc.boolean() });
    fc.assert(
      fc.property(fc.array(op, { minLength: 100, maxLength: 400 }), (ops) => {
        const cap = 12;
        const tlb = new Iotlb(cap, new Trace());
        // The model: key → entry, with an LRU list.
        const model = new Map<string, { tag: number; iova: number; size: number }>();
        const lru: string[] = [];
        const use = (k: string) => {
          lru.splice(lru.indexOf(k), 1);
          lru.push(k);
        };
        for (const o of ops) {
          const size = o.big ? 2 * M : 4 * K;
          const iova = Math.floor((o.page * 64 * K) / size) * size;
          const key = `${o.tag}:${iova}:${size}`;
          if (o.kind < 5) {
            if (!model.has(key)) {
              if (model.size === cap) model.delete(lru.shift()!);
              model.set(key, { tag: o.tag, iova, size });
              lru.push(key);
            } else use(key);
            tlb.insert(o.tag, iova, size, 0, 3);
          } else if (o.kind < 9) {
            const at = o.page * 64 * K + 100;
            const hits = [...model.entries()]
              .filter(([, e]) => e.tag === o.tag && at >= e.iova && at < e.iova + e.size)
              .sort((a, b) => a[1].size - b[1].size);
            const i = tlb.lookup(o.tag, at);
            if (hits.length === 0) expect(i).toBe(-1);
            else {
              expect(i).toBeGreaterThanOrEqual(0);
              expect(tlb.size_of(i)).toBe(hits[0][1].size);
              use(hits[0][0]);
            }
          } else {
            const start = o.page * 64 * K;
            for (const [k, e] of [...model.entries()])
              if (e.tag === o.tag && e.iova < start + 256 * K && start < e.iova + e.size) {
                model.delete(k);
                lru.splice(lru.indexOf(k), 1);
              }
            tlb.invalidate_range(o.tag, start, 256 * K);
          }
          expect(tlb.count).toBe(model.size);
        }
        const got = tlb
          .entries()
          .map((e) => `${e.tag}:${e.iova}:${e.size}`)
          .sort();
        expect(got).toEqual([...model.keys()].sort());
      }),
      { numRuns: 50, seed: 0x7b },
    );
  });
});
