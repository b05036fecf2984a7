/**
 * `npm run bench [-- --json] [-- name…]`: every workload of BENCH.md in one process, or only the
 * named ones (`drivers` for the per-driver rows). Prints a table (or one JSON object per line with
 * --json: {name, value, unit, n, detail}). Figures are measured, not asserted: record them in
 * docs/BENCHMARKS.md with the machine and the date.
 */
import os from 'node:os';
import { run as drivers } from './drivers.bench.ts';
import { run as engine } from './engine.bench.ts';
import { run as trace } from './trace.bench.ts';
import type { BenchResult } from './trace.bench.ts';

const TARGETS: Record<string, string> = {
  map_4k_calls: '≤ 250 ns',
  map_1g_batched: '≤ 15 ns',
  unmap_1g_batched: '≤ 20 ns',
  dma_hit: '≤ 30 ns',
  dma_walk_random: '≤ 120 ns',
  iova_to_phys_random: '≤ 100 ns',
  trace_bytes_per_event: '≤ 24 B',
  resident_4m_mappings: '< 1500 MB',
  seek_step: '≤ 50 ms',
  run_latency: '≤ 50 ms',
};

// argv: node, bin/run-ts.js, bench/run.ts, then ours.
const args = process.argv.slice(3);
const json = args.includes('--json');
const only = args.filter((a) => !a.startsWith('--'));
// A name asks for its workload only: `trace_…` names come from the trace bench, `name[driver]` from
// the per-driver one (`drivers` asks for all of those).
const wants = (group: (name: string) => boolean) => !only.length || only.some(group);
const results: BenchResult[] = [
  ...engine(),
  ...(wants((n) => n.startsWith('trace_')) ? trace() : []),
  ...(wants((n) => n === 'drivers' || n.endsWith(']')) ? drivers() : []),
].filter((r) => !only.length || only.includes(r.name) || (only.includes('drivers') && r.name.endsWith(']')));
if (json) {
  for (const r of results) console.log(JSON.stringify(r));
} else {
  console.log(
    `IOMMU Lab benchmarks — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  for (const r of results) {
    const v = r.value >= 100 ? r.value.toFixed(0) : r.value.toFixed(2);
    const target = TARGETS[r.name] ?? TARGETS[r.name.replace(/\[.*\]$/, '')] ?? '-';
    console.log(
      `${r.name.padEnd(34)} ${`${v} ${r.unit}`.padStart(16)}   target ${target.padEnd(10)} ${r.detail ?? ''}`,
    );
  }
}
