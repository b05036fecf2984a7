/**
 * Page-table and IOTLB figures (BENCH.md) measured on the bottom layers alone, without the core:
 * - pgtable_map_4k_calls: 262,144 map_pages calls of one 4 KiB page each (arm-lpae-s1, 4K granule);
 * - pgtable_map_1g_batched: 1 GiB of 4 KiB leaves through map_pages(…, 4096, 262144, …), looping as
 *   the core does because io-pgtable-arm fills one table per call;
 * - pgtable_unmap_1g_batched: unmapping that 1 GiB the same way;
 * - pgtable_iova_to_phys_random: 10 M random lookups over 4 M live 4 KiB mappings (16 GiB of IOVA);
 * - iotlb_walk_random: 10 M translations at random 4 KiB pages of a 1 GiB mapping through a
 *   64-entry IOTLB (lookup, then on a miss the walk and the insert that evicts), with tracing off
 *   and, for 1 M of them, on.
 * Run: `node node_modules/tsx/dist/cli.mjs bench/pgtable.bench.ts [--json]`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PhysMem } from '../engine/mem/phys-mem.ts';
import { map_all, unmap_all } from '../engine/pgtable/core-loops.ts';
import { ARM_LPAE_S1 } from '../engine/pgtable/formats/arm-lpae-s1.ts';
import { IoPgtable } from '../engine/pgtable/io-pgtable.ts';
import { IOMMU_READ, IOMMU_WRITE, WalkResult } from '../engine/pgtable/types.ts';
import { Iotlb } from '../engine/iotlb/iotlb.ts';
import type { EventDef } from '../engine/trace/events.ts';
import { Trace } from '../engine/trace/trace.ts';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  n: number;
  detail?: string;
}

const RW = IOMMU_READ | IOMMU_WRITE;
const PAGE = 4096;
const GiB = 1024 * 1024 * 1024;

/** A trace that records nothing: isolates the tables from the log's cost. */
class NullTrace extends Trace {
  override emit(_ev: EventDef, _a = 0, _b = 0, _c = 0, _d = 0, _e = 0, _f = 0): void {}
}

/** A small deterministic PRNG (xorshift32), so every run walks the same addresses. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

function table(trace: Trace = new Trace(), mem = new PhysMem({ ram_size: 4 * GiB })): IoPgtable {
  return new IoPgtable(mem, trace, ARM_LPAE_S1, {}, null);
}

function ns(ms: number, n: number): number {
  return (ms * 1e6) / n;
}

/**
 * CPU time of this process in ms. The machines are shared (2 cores, other jobs running), so
 * figures are CPU time rather than wall time: waiting for a core is not the engine's cost.
 */
function now(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function run(opts: { lookups?: number; walks?: number } = {}): BenchResult[] {
  const out: BenchResult[] = [];
  const lookups = opts.lookups ?? 10_000_000;
  const walks = opts.walks ?? 10_000_000;

  // Warm every path on scratch tables so the timed loops measure optimised code, as a lab that
  // has been running a while would (the first 1 GiB map otherwise pays for tiering up).
  {
    const w = table();
    for (let r = 0; r < 8; r++) {
      map_all(w, 0x1_0000_0000, 0x8000_0000, PAGE, GiB / PAGE, RW);
      unmap_all(w, 0x1_0000_0000, PAGE, GiB / PAGE);
    }
    for (let i = 0; i < 200_000; i++)
      w.map_pages(0x2_0000_0000 + i * PAGE, 0x8000_0000 + i * PAGE, PAGE, 1, RW);
    const tlb = new Iotlb(64, new NullTrace());
    const wr = new WalkResult();
    for (let i = 0; i < 2_000_000; i++) {
      const iova = 0x2_0000_0000 + ((i * 7919) % 200_000) * PAGE;
      if (tlb.lookup(1, iova) < 0 && w.walk(iova, wr))
        tlb.insert(1, wr.iova_base, wr.size, wr.pa_base, wr.prot);
      w.iova_to_phys(iova);
    }
    w.free();
  }

  {
    const pt = table();
    const n = 262_144;
    const t0 = now();
    for (let i = 0; i < n; i++) pt.map_pages(0x1_0000_0000 + i * PAGE, 0x8000_0000 + i * PAGE, PAGE, 1, RW);
    const ms = now() - t0;
    out.push({
      name: 'pgtable_map_4k_calls',
      value: ns(ms, n),
      unit: 'ns',
      n,
      detail: 'per map_pages call of one 4 KiB page, tracing on',
    });
  }

  {
    const pt = table();
    const n = 262_144;
    const t0 = now();
    const r = map_all(pt, 0x1_0000_0000, 0x8000_0000, PAGE, n, RW);
    const ms = now() - t0;
    if (r.ret !== 0 || r.mapped !== GiB) throw new Error('map_1g failed');
    out.push({
      name: 'pgtable_map_1g_batched',
      value: ns(ms, n),
      unit: 'ns',
      n,
      detail: `per 4 KiB page; ${pt.table_count} tables`,
    });
    const u0 = now();
    const got = unmap_all(pt, 0x1_0000_0000, PAGE, n);
    const ums = now() - u0;
    if (got !== GiB) throw new Error('unmap_1g failed');
    out.push({
      name: 'pgtable_unmap_1g_batched',
      value: ns(ums, n),
      unit: 'ns',
      n,
      detail: 'per 4 KiB page, tlb_add_page per leaf',
    });
  }

  {
    const pt = table(new NullTrace());
    const live = 4 * 1024 * 1024;
    const m0 = now();
    const r = map_all(pt, 0, 0x1_0000_0000, PAGE, live, RW);
    const mapMs = now() - m0;
    if (r.ret !== 0) throw new Error('map 16G failed');
    const rand = rng(7);
    const addrs = new Float64Array(1 << 20);
    for (let i = 0; i < addrs.length; i++) addrs[i] = Math.floor(rand() * live) * PAGE + 0x123;
    let sum = 0;
    for (let i = 0; i < 200_000; i++) sum += pt.iova_to_phys(addrs[i & 0xfffff]);
    const t0 = now();
    for (let i = 0; i < lookups; i++) sum += pt.iova_to_phys(addrs[i & 0xfffff]);
    const ms = now() - t0;
    if (sum === 0) throw new Error('lookups found nothing');
    out.push({
      name: 'pgtable_iova_to_phys_random',
      value: ns(ms, lookups),
      unit: 'ns',
      n: lookups,
      detail: `4 M live 4 KiB mappings (${pt.table_count} tables, mapped in ${mapMs.toFixed(0)} ms)`,
    });
  }

  for (const traced of [false, true]) {
    const trace = traced ? new Trace() : new NullTrace();
    const pt = table(trace);
    map_all(pt, 0, 0x1_0000_0000, PAGE, GiB / PAGE, RW);
    const tlb = new Iotlb(64, trace);
    const rand = rng(11);
    const addrs = new Float64Array(1 << 20);
    for (let i = 0; i < addrs.length; i++) addrs[i] = Math.floor(rand() * (GiB / PAGE)) * PAGE + 0x40;
    const w = new WalkResult();
    const n = traced ? Math.min(walks, 1_000_000) : walks;
    let sum = 0;
    const one = (iova: number): number => {
      const i = tlb.lookup(1, iova);
      if (i >= 0) {
        tlb.stats.hits++;
        return tlb.pa_of(i) + (iova - tlb.iova_of(i));
      }
      tlb.stats.misses++;
      if (!pt.walk(iova, w)) return 0;
      tlb.insert(1, w.iova_base, w.size, w.pa_base, w.prot);
      return w.pa_base + (iova - w.iova_base);
    };
    for (let i = 0; i < 200_000; i++) sum += one(addrs[i & 0xfffff]);
    const t0 = now();
    for (let i = 0; i < n; i++) sum += one(addrs[i & 0xfffff]);
    const ms = now() - t0;
    if (sum === 0) throw new Error('walks found nothing');
    out.push({
      name: traced ? 'iotlb_walk_random_traced' : 'iotlb_walk_random',
      value: ns(ms, n),
      unit: 'ns',
      n,
      detail: `64-entry IOTLB over a 1 GiB mapping of 4 KiB pages, ${((100 * tlb.stats.misses) / (tlb.stats.hits + tlb.stats.misses)).toFixed(1)}% misses, tracing ${traced ? 'on (insert + evict events)' : 'off'}`,
    });
  }
  return out;
}

const entry = process.argv.slice(1, 3).some((a) => import.meta.url === pathToFileURL(resolve(a)).href);
if (entry) {
  for (const r of run()) {
    if (process.argv.includes('--json')) console.log(JSON.stringify(r));
    else console.log(`${r.name.padEnd(32)} ${r.value.toFixed(1).padStart(8)} ${r.unit}/op  (${r.detail})`);
  }
}
