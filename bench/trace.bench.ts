/**
 * trace_bytes_per_event and trace_emit (BENCH.md): 10 M emits of a 3-field event shaped like an
 * iommu_map trace line (iova above 4 GiB, size, prot), steps advancing every few events as API
 * calls do. Prints one JSON line per figure; `run()` returns them for bench/run.ts.
 */
import { defineEvent } from '../engine/trace/events.ts';
import { Trace } from '../engine/trace/trace.ts';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  n: number;
  detail?: string;
}

const evMap = defineEvent('bench_trace_map', 'call', ['iova:x', 'size:x', 'prot:u']);

export function run(n = 10_000_000): BenchResult[] {
  // Warm up emit on a small trace so the timed loop runs optimised code.
  const warm = new Trace();
  for (let i = 0; i < 200_000; i++) warm.emit(evMap, i * 4096, 4096, 3);

  const trace = new Trace();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if ((i & 3) === 0) trace.step++;
    trace.emit(evMap, 0x1_0000_0000 + i * 4096, 4096, 3);
  }
  const ms = performance.now() - t0;
  const bytes = trace.bytes();
  const d0 = performance.now();
  const digest = trace.digest();
  const digestMs = performance.now() - d0;
  // The same emits into the memory the log already holds (`clear()` keeps its chunks): the
  // emit cost itself, without the first touch of fresh pages, which is slow on some VMs.
  trace.clear();
  const w0 = performance.now();
  for (let i = 0; i < n; i++) {
    if ((i & 3) === 0) trace.step++;
    trace.emit(evMap, 0x1_0000_0000 + i * 4096, 4096, 3);
  }
  const warmMs = performance.now() - w0;
  if (trace.digest() !== digest) throw new Error('the same emits gave a different log');
  const q0 = performance.now();
  const total = trace.count({ fields: { prot: 3 }, fromStep: 1000 });
  const page = trace.query(total - 100, 50, { fields: { prot: 3 }, fromStep: 1000 });
  const queryMs = performance.now() - q0;
  if (page.events.length !== 50) throw new Error('query returned a short page');
  return [
    {
      name: 'trace_emit',
      value: (ms * 1e6) / n,
      unit: 'ns',
      n,
      detail: `${ms.toFixed(0)} ms, fresh memory`,
    },
    {
      name: 'trace_emit_reused',
      value: (warmMs * 1e6) / n,
      unit: 'ns',
      n,
      detail: `${warmMs.toFixed(0)} ms, into memory kept by clear()`,
    },
    {
      name: 'trace_bytes_per_event',
      value: bytes / n,
      unit: 'bytes',
      n,
      detail: `log ${(bytes / 2 ** 20).toFixed(1)} MB; digest ${digest} in ${digestMs.toFixed(0)} ms; field filter count + deep page ${queryMs.toFixed(0)} ms`,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of run(Number(process.argv[2] ?? 10_000_000))) {
    if (process.argv.includes('--json')) console.log(JSON.stringify(r));
    else
      console.log(
        `${r.name.padEnd(24)} ${r.value.toFixed(2).padStart(8)} ${r.unit.padEnd(6)} ${r.detail ?? ''}`,
      );
  }
}
