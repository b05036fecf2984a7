/**
 * The engine workloads of BENCH.md, through the same module a script imports (so the figures are
 * what a scenario pays, argument checks and step recording included), except the device-side
 * workloads, which time the hardware path (IOTLB, walk, permission check) on its own.
 *
 * Shared machines are noisy, so the detail column also gives the process's CPU time over the
 * same stretch and, where a workload is repeated, the first (cold) figure next to the best one:
 * the first pass pays for the JIT and for touching fresh memory (page faults), which on some VMs
 * cost more than the work itself. Garbage from one workload is collected before the next, so a
 * workload never pays for collecting another's heap. Two calibration rows say what this machine
 * gives right now: a flat four-level table walk (BENCH.md: 15–27 ns on this kind of machine) and
 * the cost of first touching a 4 KiB page of fresh memory.
 *
 * Every workload runs in the realm scripts run in: locked down by SES (with the engine warmed up
 * before the lockdown, as the first run does; see engine/script/warm-up.ts).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { device_translate } from '../engine/core/translate.ts';
import type { Device } from '../engine/core/device.ts';
import type { IommuDomain } from '../engine/core/domain.ts';
import { iommu_map } from '../engine/core/map.ts';
import { iommu_unmap } from '../engine/core/unmap.ts';
import type * as Api from '../engine/script/iommu-lab.d.ts';
import { createLabModule } from '../engine/script/module.ts';
import type { LabSession } from '../engine/script/session.ts';
import { runScript } from '../engine/script/run-script.ts';
import { ensureLockdown } from '../engine/script/sandbox.ts';
import type { BenchResult } from './trace.bench.ts';

const RW = 3;
const SZ_4K = 0x1000;
const SZ_1G = 0x4000_0000;

v8.setFlagsFromString('--expose-gc');
/** A full collection, so the next workload starts without the last one's garbage. */
const collect = vm.runInNewContext('gc') as () => void;

interface Measured {
  wall: number;
  cpu: number;
  faults: number;
}

/** Wall and CPU milliseconds of `f`, and the minor page faults it took. */
function measure(f: () => void): Measured {
  const r0 = process.resourceUsage();
  const t0 = performance.now();
  f();
  const wall = performance.now() - t0;
  const r1 = process.resourceUsage();
  return {
    wall,
    cpu: (r1.userCPUTime + r1.systemCPUTime - r0.userCPUTime - r0.systemCPUTime) / 1000,
    faults: r1.minorPageFault - r0.minorPageFault,
  };
}

/** ms → ns per operation, as text with the unit's precision. */
const per = (ms: number, n: number) => ((ms * 1e6) / n).toFixed(0);

/** A fresh lab with one SMMUv3 (4K granule), one device and one UNMANAGED domain. */
function setup(tlb_entries = 32) {
  const { exports, session } = createLabModule({});
  const L = exports as unknown as typeof Api;
  const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3', { tlb_entries });
  const dev = L.lab.add_device('dev0', { iommu: smmu });
  const domain = L.iommu_paging_domain_alloc(dev);
  if (L.IS_ERR(domain)) throw new Error('no domain');
  return { L, dev, domain, session: session as LabSession };
}

function internals(s: LabSession, domainId: number): { domain: IommuDomain; dev: Device } {
  const m = s.machine;
  return { domain: m.domain_by_id.get(domainId)!, dev: m.devices[0] };
}

function map_4k_calls(n = 262_144, reps = 3): BenchResult {
  const runs: Measured[] = [];
  for (let r = 0; r < reps; r++) {
    collect();
    const { L, domain, session } = setup();
    runs.push(
      measure(() => {
        for (let i = 0; i < n; i++)
          L.iommu_map(domain, 0x1_0000_0000 + i * SZ_4K, 0x8000_0000 + i * SZ_4K, SZ_4K, RW);
      }),
    );
    if (L.iommu_iova_to_phys(domain, 0x1_0000_0000 + (n - 1) * SZ_4K) !== 0x8000_0000 + (n - 1) * SZ_4K)
      throw new Error('map_4k_calls: wrong result');
    session.dispose(); // as the app's host does when the next run starts: the next lab reuses its memory
  }
  const best = runs.reduce((a, b) => (b.wall < a.wall ? b : a));
  return {
    name: 'map_4k_calls',
    value: (best.wall * 1e6) / n,
    unit: 'ns/call',
    n,
    detail: `iommu_map from a script, arm-smmu-v3 4K granule, UNMANAGED, tracing on; best of ${reps} fresh labs (CPU ${per(best.cpu, n)} ns); ${(best.faults / n).toFixed(3)} page faults/call; first ${per(runs[0].wall, n)} ns with ${(runs[0].faults / n).toFixed(3)}`,
  };
}

function map_unmap_1g(cycles = 3): BenchResult[] {
  collect();
  const { L, domain, session } = setup();
  const d = internals(session, domain.id).domain;
  d.pgsize_bitmap = SZ_4K; // 4K only: 262,144 leaves through map_pages runs
  const pages = SZ_1G / SZ_4K;
  const maps: Measured[] = [];
  const unmaps: Measured[] = [];
  // The first cycle allocates the 513 tables (fresh memory); later ones map into freed tables.
  for (let c = 0; c < cycles; c++) {
    maps.push(
      measure(() => {
        if (iommu_map(d, 0x4000_0000, 0x1_0000_0000, SZ_1G, RW) !== 0) throw new Error('map failed');
      }),
    );
    if (L.iommu_iova_to_phys(domain, 0x4000_0000 + SZ_1G - SZ_4K) !== 0x1_0000_0000 + SZ_1G - SZ_4K)
      throw new Error('map_1g: wrong result');
    let got = 0;
    unmaps.push(measure(() => (got = iommu_unmap(d, 0x4000_0000, SZ_1G))));
    if (got !== SZ_1G) throw new Error(`unmap_1g unmapped ${got}`);
  }
  session.dispose();
  const best = (xs: Measured[]) => xs.reduce((a, b) => (b.wall < a.wall ? b : a));
  const bm = best(maps);
  const bu = best(unmaps);
  return [
    {
      name: 'map_1g_batched',
      value: (bm.wall * 1e6) / pages,
      unit: 'ns/page',
      n: pages,
      detail: `one iommu_map of 1 GiB, pgsize_bitmap 4K; best of ${cycles} map/unmap cycles (CPU ${per(bm.cpu, pages)} ns); first ${per(maps[0].wall, pages)} ns with ${maps[0].faults} page faults`,
    },
    {
      name: 'unmap_1g_batched',
      value: (bu.wall * 1e6) / pages,
      unit: 'ns/page',
      n: pages,
      detail: `one iommu_unmap of 1 GiB of 4K leaves; best of ${cycles} (CPU ${per(bu.cpu, pages)} ns); first ${per(unmaps[0].wall, pages)} ns`,
    },
  ];
}

function dma(n = 10_000_000): BenchResult[] {
  collect();
  // One hot page: every access hits the IOTLB.
  const a = setup(32);
  a.L.iommu_attach_device(a.domain, a.dev);
  a.L.iommu_map(a.domain, 0x10000, 0x8000_0000, SZ_4K, RW);
  const ia = internals(a.session, a.domain.id);
  let sum = 0;
  const hit = measure(() => {
    for (let i = 0; i < n; i++) sum += device_translate(ia.dev, 0x10000 + (i & 0xff8), false);
  });
  if (sum !== n * 0x8000_0000 + sumOffsets(n)) throw new Error('dma_hit: wrong translation');

  // Random 4K pages of a 1 GiB mapping through a 64-entry IOTLB: mostly misses and walks.
  const b = setup(64);
  b.L.iommu_attach_device(b.domain, b.dev);
  const ib = internals(b.session, b.domain.id);
  ib.domain.pgsize_bitmap = SZ_4K;
  iommu_map(ib.domain, 0x4000_0000, 0x1_0000_0000, SZ_1G, RW);
  let x = 0x2545f491;
  let bad = 0;
  const walk = measure(() => {
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const page = (x >>> 0) % 262_144;
      if (device_translate(ib.dev, 0x4000_0000 + page * SZ_4K, false) !== 0x1_0000_0000 + page * SZ_4K) bad++;
    }
  });
  if (bad) throw new Error(`dma_walk_random: ${bad} wrong translations`);
  const stats = ib.dev.iommu.tlb.stats;
  a.session.dispose();
  b.session.dispose();
  return [
    {
      name: 'dma_hit',
      value: (hit.wall * 1e6) / n,
      unit: 'ns/access',
      n,
      detail: `device reads of one hot page (IOTLB hit, permission check); CPU ${per(hit.cpu, n)} ns`,
    },
    {
      name: 'dma_walk_random',
      value: (walk.wall * 1e6) / n,
      unit: 'ns/access',
      n,
      detail: `random 4K pages of 1 GiB, 64-entry IOTLB (${((100 * stats.misses) / (stats.hits + stats.misses)).toFixed(1)}% misses); CPU ${per(walk.cpu, n)} ns`,
    },
  ];
}

function sumOffsets(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += i & 0xff8;
  return s;
}

function iova_to_phys_and_resident(lookups = 10_000_000, live = 4 * 1024 * 1024): BenchResult[] {
  collect();
  const rss0 = process.memoryUsage().rss;
  const { L, domain, session } = setup();
  // 4 M live 4K mappings (16 GiB of IOVA), made by separate iommu_map calls with tracing on.
  const made = measure(() => {
    for (let i = 0; i < live; i++)
      L.iommu_map(domain, 0x1_0000_0000 + i * SZ_4K, 0x10_0000_0000 + i * SZ_4K, SZ_4K, RW);
  });
  // The process's whole resident set, not only its growth: earlier workloads' labs left memory
  // for reuse (see LabSession.dispose), which this lab may have taken instead of growing.
  const rssNow = process.memoryUsage().rss;
  const rss = rssNow - rss0;
  const d = internals(session, domain.id).domain;
  const ops = d.ops;
  let x = 0x9e3779b9;
  let bad = 0;
  const t = measure(() => {
    for (let i = 0; i < lookups; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const p = (x >>> 0) % live;
      if (ops.iova_to_phys!(d, 0x1_0000_0000 + p * SZ_4K + 0x10) !== 0x10_0000_0000 + p * SZ_4K + 0x10) bad++;
    }
  });
  if (bad) throw new Error(`iova_to_phys_random: ${bad} wrong`);
  const log = (session as unknown as { ctx: { log: { bytes(): number } } }).ctx.log;
  const events = session.trace.length;
  const traceMB = session.trace.bytes() / 2 ** 20;
  const logMB = log.bytes() / 2 ** 20;
  session.dispose();
  return [
    {
      name: 'iova_to_phys_random',
      value: (t.wall * 1e6) / lookups,
      unit: 'ns/lookup',
      n: lookups,
      detail: `4 M live 4K mappings (16 GiB of IOVA); CPU ${per(t.cpu, lookups)} ns`,
    },
    {
      name: 'resident_4m_mappings',
      value: rssNow / 2 ** 20,
      unit: 'MB',
      n: live,
      detail: `process RSS with 4 M mappings from 4 M iommu_map calls (${per(made.wall, live)} ns each) and their trace (${events} events, ${traceMB.toFixed(0)} MB of trace, ${logMB.toFixed(0)} MB of call log); ${(rss / 2 ** 20).toFixed(0)} MB more than before the lab`,
    },
  ];
}

function seek_step(steps = 1_000_000, seeks = 50): BenchResult {
  collect();
  // A 1 M-step run: map and unmap pages in a small window, so the state stays small.
  const lines = [
    "import { lab, iommu_paging_domain_alloc, iommu_map, iommu_unmap, IS_ERR } from 'iommu-lab';",
    "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
    "const dev = lab.add_device('dev0', { iommu: smmu });",
    'const d = iommu_paging_domain_alloc(dev);',
    "if (IS_ERR(d)) throw new Error('no domain');",
    `for (let i = 0; i < ${(steps - 4) / 2}; i++) {`,
    '  const iova = 0x100000 + (i % 512) * 0x1000;',
    '  iommu_map(d, iova, 0x80000000 + iova, 0x1000, 3);',
    '  iommu_unmap(d, iova, 0x1000);',
    '}',
  ];
  const r = runScript({ fileName: 'seek.ts', source: lines.join('\n'), timeoutMs: 600_000 });
  const session = r.session!;
  if (r.status !== 'passed') throw new Error(`seek_step run: ${r.status} ${r.error?.message}`);
  // The host builds checkpoints while idle after a run; then seeks are measured.
  const build = measure(() => {
    while (!session.buildCheckpoints(1000));
  });
  let x = 12345;
  const t = measure(() => {
    for (let i = 0; i < seeks; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      session.seek(x % session.steps);
    }
  });
  session.dispose();
  return {
    name: 'seek_step',
    value: t.wall / seeks,
    unit: 'ms',
    n: seeks,
    detail: `random seeks in a ${session.steps}-step run (CPU ${(t.cpu / seeks).toFixed(1)} ms), after checkpoints were built in ${(build.wall / 1000).toFixed(1)} s`,
  };
}

/**
 * BENCH.md: "from a run request to the first event, for a 50-line scenario, warm engine". The
 * value is the stricter reading — the request to the console line the scenario prints after its
 * last call, i.e. the whole run — each run with a text the engine has not compiled before (a
 * rerun of the same text skips compiling: that figure and the time to a first line printed
 * before any call are in the detail, and so is the average of the first runs after start-up).
 */
function run_latency(runs = 20): BenchResult {
  collect();
  const scenario = (k: number, first: string) =>
    [
      "import { lab, iommu_paging_domain_alloc, iommu_map, IS_ERR, IOMMU_READ } from 'iommu-lab';",
      first,
      `const smmu = lab.add_iommu('smmu${k}', 'arm-smmu-v3');`,
      "const dev = lab.add_device('dev0', { iommu: smmu });",
      'const d = iommu_paging_domain_alloc(dev);',
      "if (IS_ERR(d)) throw new Error('no domain');",
      ...Array.from(
        { length: 40 },
        (_, i) => `iommu_map(d, ${0x100000 + i * 0x1000}, ${0x80000000 + i * 0x1000}, 0x1000, IOMMU_READ);`,
      ),
      "console.log('done');",
    ].join('\n');
  /** Milliseconds from the request to the run's first console line. */
  const latency = (source: string) => {
    const t0 = performance.now();
    let seen = -1;
    const r = runScript({
      fileName: 'latency.ts',
      source,
      onConsole: () => {
        if (seen < 0) seen = performance.now() - t0;
      },
    });
    if (r.status !== 'passed') throw new Error(`run_latency: ${r.status} ${r.error?.message}`);
    r.session?.dispose();
    return seen;
  };
  // A warm engine: the app has run scenarios before (the compiler and the engine's paths are
  // optimised by then); the first runs after start-up are reported apart.
  let cold = 0;
  for (let i = 1; i <= runs; i++) cold += latency(scenario(-i, ''));
  let fresh = 0;
  let same = 0;
  let firstLine = 0;
  const cpu = measure(() => {
    for (let i = 1; i <= runs; i++) fresh += latency(scenario(i, ''));
  });
  latency(scenario(0, ''));
  for (let i = 1; i <= runs; i++) same += latency(scenario(0, ''));
  for (let i = 1; i <= runs; i++) firstLine += latency(scenario(runs + i, "console.log('start');"));
  return {
    name: 'run_latency',
    value: fresh / runs,
    unit: 'ms',
    n: runs,
    detail: `run request to the console line after the last of 45 calls, a 50-line scenario new to the warm engine (CPU ${(cpu.cpu / runs).toFixed(1)} ms); the same text again ${(same / runs).toFixed(1)} ms; to a line printed before the first call ${(firstLine / runs).toFixed(1)} ms; the first ${runs} runs after start-up ${(cold / runs).toFixed(1)} ms`,
  };
}

/** What this machine gives right now, to read the other rows against. */
function calibration(): BenchResult[] {
  collect();
  // A four-level table of 1 GiB of 4K pages in one Uint32Array (root, one level-1 table, one
  // level-2 table, 512 leaf tables), walked at random.
  const table = new Uint32Array(512 * (3 + 512));
  table[0] = 512;
  table[512] = 1024;
  for (let e = 0; e < 512; e++) table[1024 + e] = 1536 + e * 512;
  for (let j = 0; j < 512 * 512; j++) table[1536 + j] = 0x40000 + j;
  const n = 10_000_000;
  let x = 0x2545f491;
  let s = 0;
  const walk = measure(() => {
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const p = (x >>> 0) % 262_144;
      const l1 = table[0];
      const l2 = table[l1];
      const l3 = table[l2 + (p >>> 9)];
      s += table[l3 + (p & 511)];
    }
  });
  if (s < 0) throw new Error('unreachable');
  const pages = 16_384; // 64 MiB
  const fresh = new Uint8Array(pages * 4096);
  const touch = measure(() => {
    for (let i = 0; i < fresh.length; i += 4096) fresh[i] = 1;
  });
  return [
    {
      name: 'calibration_flat_walk',
      value: (walk.wall * 1e6) / n,
      unit: 'ns',
      n,
      detail: `four array loads at random, the reference BENCH.md puts at 15–27 ns; CPU ${per(walk.cpu, n)} ns`,
    },
    {
      name: 'calibration_page_touch',
      value: (touch.wall * 1e6) / pages,
      unit: 'ns/page',
      n: pages,
      detail: `first write to a 4 KiB page of fresh memory (${touch.faults} page faults; a few hundred ns on an idle machine); CPU ${per(touch.cpu, pages)} ns`,
    },
  ];
}

/** Workloads by the names they report; `npm run bench -- name…` runs only those asked for. */
const WORKLOADS: [names: string[], run: () => BenchResult[]][] = [
  [['calibration_flat_walk', 'calibration_page_touch'], calibration],
  [['map_4k_calls'], () => [map_4k_calls()]],
  [['map_1g_batched', 'unmap_1g_batched'], map_unmap_1g],
  [['dma_hit', 'dma_walk_random'], dma],
  [['iova_to_phys_random', 'resident_4m_mappings'], iova_to_phys_and_resident],
  [['seek_step'], () => [seek_step()]],
  [['run_latency'], () => [run_latency()]],
];

export function run(): BenchResult[] {
  ensureLockdown();
  // argv: node, bin/run-ts.js, bench/run.ts, then the names (bench/run.ts reads the same list).
  const only = process.argv.slice(3).filter((a) => !a.startsWith('--'));
  const results: BenchResult[] = [];
  for (const [names, workload] of WORKLOADS)
    if (!only.length || names.some((n) => only.includes(n))) results.push(...workload());
  collect();
  return results;
}
