/**
 * The engine workloads of BENCH.md, through the same module a script imports (so the figures are
 * what a scenario pays, argument checks and step recording included), except the device-side
 * workloads, which time the hardware path (IOTLB, walk, permission check) on its own.
 */
import { iommu_iotlb_gather_init } from '../engine/core/gather.ts';
import { device_translate } from '../engine/core/translate.ts';
import type { Device } from '../engine/core/device.ts';
import type { IommuDomain } from '../engine/core/domain.ts';
import { iommu_map } from '../engine/core/map.ts';
import { iommu_unmap } from '../engine/core/unmap.ts';
import type * as Api from '../engine/script/iommu-lab.d.ts';
import { createLabModule } from '../engine/script/module.ts';
import type { LabSession } from '../engine/script/session.ts';
import { runScript } from '../engine/script/run-script.ts';
import type { BenchResult } from './trace.bench.ts';

const RW = 3;
const SZ_4K = 0x1000;
const SZ_1G = 0x4000_0000;

function ms(): number {
  return performance.now();
}

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

function map_4k_calls(n = 262_144): BenchResult {
  const { L, domain } = setup();
  const t0 = ms();
  for (let i = 0; i < n; i++)
    L.iommu_map(domain, 0x1_0000_0000 + i * SZ_4K, 0x8000_0000 + i * SZ_4K, SZ_4K, RW);
  const t = ms() - t0;
  if (L.iommu_iova_to_phys(domain, 0x1_0000_0000 + (n - 1) * SZ_4K) !== 0x8000_0000 + (n - 1) * SZ_4K)
    throw new Error('map_4k_calls: wrong result');
  return {
    name: 'map_4k_calls',
    value: (t * 1e6) / n,
    unit: 'ns/call',
    n,
    detail: 'iommu_map from a script, arm-smmu-v3 4K granule, UNMANAGED, tracing on',
  };
}

function map_unmap_1g(): BenchResult[] {
  const { L, domain, session } = setup();
  const d = internals(session, domain.id).domain;
  d.pgsize_bitmap = SZ_4K; // 4K only: 262,144 leaves through one map_pages run
  const pages = SZ_1G / SZ_4K;
  const t0 = ms();
  if (iommu_map(d, 0x4000_0000, 0x1_0000_0000, SZ_1G, RW) !== 0) throw new Error('map failed');
  const tm = ms() - t0;
  if (L.iommu_iova_to_phys(domain, 0x4000_0000 + SZ_1G - SZ_4K) !== 0x1_0000_0000 + SZ_1G - SZ_4K)
    throw new Error('map_1g: wrong result');
  const t1 = ms();
  const got = iommu_unmap(d, 0x4000_0000, SZ_1G);
  const tu = ms() - t1;
  if (got !== SZ_1G) throw new Error(`unmap_1g unmapped ${got}`);
  void iommu_iotlb_gather_init;
  return [
    {
      name: 'map_1g_batched',
      value: (tm * 1e6) / pages,
      unit: 'ns/page',
      n: pages,
      detail: 'one iommu_map of 1 GiB, pgsize_bitmap 4K',
    },
    {
      name: 'unmap_1g_batched',
      value: (tu * 1e6) / pages,
      unit: 'ns/page',
      n: pages,
      detail: 'one iommu_unmap of 1 GiB of 4K leaves',
    },
  ];
}

function dma(n = 10_000_000): BenchResult[] {
  // One hot page: every access hits the IOTLB.
  const a = setup(32);
  a.L.iommu_attach_device(a.domain, a.dev);
  a.L.iommu_map(a.domain, 0x10000, 0x8000_0000, SZ_4K, RW);
  const ia = internals(a.session, a.domain.id);
  let sum = 0;
  const t0 = ms();
  for (let i = 0; i < n; i++) sum += device_translate(ia.dev, 0x10000 + (i & 0xff8), false);
  const hit = ms() - t0;
  if (sum !== n * 0x8000_0000 + sumOffsets(n)) throw new Error('dma_hit: wrong translation');

  // Random 4K pages of a 1 GiB mapping through a 64-entry IOTLB: mostly misses and walks.
  const b = setup(64);
  b.L.iommu_attach_device(b.domain, b.dev);
  const ib = internals(b.session, b.domain.id);
  ib.domain.pgsize_bitmap = SZ_4K;
  iommu_map(ib.domain, 0x4000_0000, 0x1_0000_0000, SZ_1G, RW);
  let x = 0x2545f491;
  let bad = 0;
  const t1 = ms();
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const page = (x >>> 0) % 262_144;
    if (device_translate(ib.dev, 0x4000_0000 + page * SZ_4K, false) !== 0x1_0000_0000 + page * SZ_4K) bad++;
  }
  const walk = ms() - t1;
  if (bad) throw new Error(`dma_walk_random: ${bad} wrong translations`);
  const stats = ib.dev.iommu.tlb.stats;
  return [
    {
      name: 'dma_hit',
      value: (hit * 1e6) / n,
      unit: 'ns/access',
      n,
      detail: 'device reads of one hot page (IOTLB hit, permission check)',
    },
    {
      name: 'dma_walk_random',
      value: (walk * 1e6) / n,
      unit: 'ns/access',
      n,
      detail: `random 4K pages of 1 GiB, 64-entry IOTLB (${((100 * stats.misses) / (stats.hits + stats.misses)).toFixed(1)}% misses)`,
    },
  ];
}

function sumOffsets(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += i & 0xff8;
  return s;
}

function iova_to_phys_and_resident(lookups = 10_000_000, live = 4 * 1024 * 1024): BenchResult[] {
  const rss0 = process.memoryUsage().rss;
  const { L, domain, session } = setup();
  // 4 M live 4K mappings (16 GiB of IOVA), made by separate iommu_map calls with tracing on.
  for (let i = 0; i < live; i++)
    L.iommu_map(domain, 0x1_0000_0000 + i * SZ_4K, 0x10_0000_0000 + i * SZ_4K, SZ_4K, RW);
  const rss = process.memoryUsage().rss - rss0;
  const d = internals(session, domain.id).domain;
  const ops = d.ops;
  let x = 0x9e3779b9;
  let bad = 0;
  const t0 = ms();
  for (let i = 0; i < lookups; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const p = (x >>> 0) % live;
    if (ops.iova_to_phys!(d, 0x1_0000_0000 + p * SZ_4K + 0x10) !== 0x10_0000_0000 + p * SZ_4K + 0x10) bad++;
  }
  const t = ms() - t0;
  if (bad) throw new Error(`iova_to_phys_random: ${bad} wrong`);
  return [
    {
      name: 'iova_to_phys_random',
      value: (t * 1e6) / lookups,
      unit: 'ns/lookup',
      n: lookups,
      detail: '4 M live 4K mappings (16 GiB of IOVA)',
    },
    {
      name: 'resident_4m_mappings',
      value: rss / 2 ** 20,
      unit: 'MB',
      n: live,
      detail: `RSS growth with 4 M mappings from 4 M iommu_map calls and their trace (${session.trace.length} events, ${(session.trace.bytes() / 2 ** 20).toFixed(0)} MB of trace)`,
    },
  ];
}

function seek_step(steps = 1_000_000, seeks = 50): BenchResult {
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
  while (!session.buildCheckpoints(1000));
  let x = 12345;
  const t0 = ms();
  for (let i = 0; i < seeks; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    session.seek(x % session.steps);
  }
  const t = ms() - t0;
  return {
    name: 'seek_step',
    value: t / seeks,
    unit: 'ms',
    n: seeks,
    detail: `random seeks in a ${session.steps}-step run, after checkpoints were built`,
  };
}

function run_latency(runs = 20): BenchResult {
  const body = Array.from(
    { length: 40 },
    (_, i) => `iommu_map(d, ${0x100000 + i * 0x1000}, ${0x80000000 + i * 0x1000}, 0x1000, IOMMU_READ);`,
  );
  const source = [
    "import { lab, iommu_paging_domain_alloc, iommu_map, IS_ERR, IOMMU_READ } from 'iommu-lab';",
    "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
    "const dev = lab.add_device('dev0', { iommu: smmu });",
    'const d = iommu_paging_domain_alloc(dev);',
    "if (IS_ERR(d)) throw new Error('no domain');",
    ...body,
  ].join('\n');
  runScript({ fileName: 'warm.ts', source }); // warm engine
  let first = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = ms();
    let seen = -1;
    runScript({
      fileName: 'latency.ts',
      source: `${source}\nconsole.log('done');`,
      onConsole: () => {
        if (seen < 0) seen = ms() - t0;
      },
    });
    first += seen;
  }
  return {
    name: 'run_latency',
    value: first / runs,
    unit: 'ms',
    n: runs,
    detail: 'run request to its console output, 50-line scenario, warm engine (whole run included)',
  };
}

export function run(): BenchResult[] {
  return [
    map_4k_calls(),
    ...map_unmap_1g(),
    ...dma(),
    ...iova_to_phys_and_resident(),
    seek_step(),
    run_latency(),
  ];
}
