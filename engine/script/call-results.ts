/**
 * The script's API calls and their results as short text, in order, for the matrix to compare
 * across drivers and kernels: every step and every query (iommu_iova_to_phys) made from the
 * script, except the lab's own `lab.*` functions and the reserved-region queries, whose results
 * describe the cell rather than how the driver answers (lab.kernel() names the cell's kernel; lab.mem.alloc's address depends on what the
 * driver's page tables took before). Only the first MAX_CALL_RESULTS calls are kept: where drivers
 * part ways is nearly always early, and a cell must stay small whatever the scenario does.
 */
import { DMA_MAPPING_ERROR, SZ_4K } from '../core/constants.ts';
import { errnoName } from '../core/errno.ts';
import { hex } from '../core/format.ts';
import { Hash64 } from '../trace/hash64.ts';
import { API_NAMES } from './api.ts';
import { handleText, numberText } from './arg-text.ts';
import { formatValue } from './format.ts';
import type { HandleTable } from './handles.ts';
import type { CallResult } from './result.ts';

export const MAX_CALL_RESULTS = 2000;

/** A longer result (a list of regions) is cut, with a hash of the whole so two cuts still compare. */
const MAX_RET_CHARS = 160;

/** Where the script made the call being recorded (the runner reads it from the stack). */
export type CallSite = () => { file?: string; line: number } | undefined;

/** A block of addresses the script got (a lab.mem.alloc buffer, a DMA API mapping), in the order it got them. */
interface Buffer {
  start: number;
  size: number;
}

/**
 * A physical address inside a buffer the script allocated, as `buf1+0x10`: where the allocator put
 * the buffer depends on what the driver's page tables took before, so raw addresses would make every
 * driver differ; the buffer and the offset are what the scenario means.
 */
function bufferName(v: number, buffers: readonly Buffer[]): string | undefined {
  for (let i = 0; i < buffers.length; i++) {
    const b = buffers[i];
    if (v >= b.start && v < b.start + b.size) return `buf${i + 1}+${hex(v - b.start)}`;
  }
  return undefined;
}

/**
 * A DMA address the DMA API gave the script, as `dma1+0x8`: where the IOVA allocator finds room
 * depends on the driver's aperture and reserved regions, so the mapping and the offset are what
 * the scenario means. An address handed out again reads as the same name (the IOVA was reused).
 */
function dmaName(v: number, mappings: readonly Buffer[]): string | undefined {
  for (let i = 0; i < mappings.length; i++) {
    const m = mappings[i];
    if (v >= m.start && v < m.start + m.size) return `dma${i + 1}+${hex(v - m.start)}`;
  }
  return undefined;
}

/** What the script's buffers and DMA mappings name (bufferName, dmaName). */
interface Named {
  buffers: readonly Buffer[];
  mappings: readonly Buffer[];
}

/** Fields of a result object that hold physical addresses (a DMA result's `pa`). */
const PHYS_FIELDS = new Set(['pa', 'paddr', 'phys', 'cpu_addr']);
/** Fields that hold DMA addresses (a fault's `iova`, a coherent buffer's `dma_handle`). */
const DMA_FIELDS = new Set(['iova', 'dma_handle', 'dma_address']);

/**
 * `v` with the physical addresses in buffers and the DMA addresses of DMA API mappings replaced by
 * their names, in fields named for them, in plain objects and arrays (an IOVA that happens to fall
 * in a buffer's range stays a number).
 */
function withNames(v: unknown, named: Named): unknown {
  if (Array.isArray(v)) return v.map((x) => withNames(x, named));
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => {
        if (typeof x !== 'number' || !Number.isInteger(x)) return [k, withNames(x, named)];
        const name = PHYS_FIELDS.has(k)
          ? bufferName(x, named.buffers)
          : DMA_FIELDS.has(k)
            ? dmaName(x, named.mappings)
            : undefined;
        return [k, name ?? x];
      }),
    );
  return v;
}

/**
 * A call's return value as text: `-ENODEV`, `0x80000000`, `domain 1`, `ERR_PTR(-EINVAL)`; a
 * `physical` one (iommu_iova_to_phys) in a buffer the script allocated as `buf1+0x10`, a `dma` one
 * (dma_map_single) as `dma1+0x0`.
 */
export function resultText(
  v: unknown,
  handles: HandleTable,
  named: Named = { buffers: [], mappings: [] },
  kind: 'physical' | 'dma' | null = null,
): string {
  if (typeof v === 'number') {
    const name = !Number.isInteger(v)
      ? undefined
      : kind === 'physical'
        ? bufferName(v, named.buffers)
        : kind === 'dma'
          ? dmaName(v, named.mappings)
          : undefined;
    return errnoName(v) ?? name ?? numberText(v);
  }
  const handle = handleText(v, handles);
  if (handle !== undefined) return handle;
  const text = formatValue(withNames(v, named), numberText).replace(/\s*\n\s*/g, ' ');
  if (text.length <= MAX_RET_CHARS) return text;
  const h = new Hash64();
  h.string(text);
  return `${text.slice(0, MAX_RET_CHARS)}… #${h.hex().slice(0, 8)}`;
}

/**
 * Queries that describe the platform a cell builds rather than how its driver answers: the reserved
 * regions are the firmware's and the driver's MSI window (a scenario reads them to stay clear of
 * them), different on every driver by design, like the lab's own `lab.*` functions.
 */
const PLATFORM_QUERIES = new Set(['iommu_get_resv_regions', 'iommu_get_group_resv_regions']);

const MEM_ALLOC = API_NAMES.indexOf('lab.mem.alloc');
const IOVA_TO_PHYS = API_NAMES.indexOf('iommu_iova_to_phys');
const DMA_MAP_SINGLE = API_NAMES.indexOf('dma_map_single');
const DMA_ALLOC_COHERENT = API_NAMES.indexOf('dma_alloc_coherent');

/** Per API entry: whether its results are compared. */
const COMPARED = API_NAMES.map((name) => !name.startsWith('lab.') && !PLATFORM_QUERIES.has(name));

/** The recorder a lab calls after each call the script makes (lab-context.ts `call`). */
export class CallResultLog {
  readonly calls: CallResult[] = [];
  private readonly named = { buffers: [] as Buffer[], mappings: [] as Buffer[] };

  constructor(
    private readonly handles: HandleTable,
    private readonly site: CallSite,
  ) {}

  /**
   * `step`: the step the call made, or for a query the step it came after; `a0`…`a2`, the call's
   * first arguments (the sizes of the buffers and mappings that later results are named by).
   */
  returned(step: number, id: number, ret: unknown, a0?: unknown, a1?: unknown, a2?: unknown): void {
    // Full: nothing more is recorded, so buffers and mappings need no more names (naming one is a
    // search of those named so far: a long DMA run would go quadratic).
    if (this.calls.length >= MAX_CALL_RESULTS) return;
    const { buffers, mappings } = this.named;
    if (id === MEM_ALLOC && typeof ret === 'number' && typeof a0 === 'number')
      buffers.push({ start: ret, size: a0 });
    // Named before the result is written, so the call that made a mapping shows its name.
    if (
      id === DMA_MAP_SINGLE &&
      typeof ret === 'number' &&
      ret !== DMA_MAPPING_ERROR &&
      typeof a2 === 'number'
    )
      nameMapping(mappings, ret, a2);
    if (id === DMA_ALLOC_COHERENT && isCoherent(ret) && typeof a1 === 'number') {
      buffers.push({ start: ret.cpu_addr, size: a1 });
      nameMapping(mappings, ret.dma_handle, a1);
    }
    if (COMPARED[id])
      this.calls.push({
        step,
        fn: API_NAMES[id],
        ret: resultText(
          ret,
          this.handles,
          this.named,
          id === IOVA_TO_PHYS ? 'physical' : id === DMA_MAP_SINGLE ? 'dma' : null,
        ),
        ...this.site(),
      });
  }

  threw(step: number, id: number, e: unknown): void {
    if (COMPARED[id] && this.calls.length < MAX_CALL_RESULTS)
      this.calls.push({ step, fn: API_NAMES[id], threw: errorClass(e), ...this.site() });
  }
}

/**
 * A new DMA mapping of `size` bytes at `addr`, named from the start of its first page (the IOVA
 * allocator hands out pages: `dma1+0x10` for a buffer 0x10 into one); a page handed out again
 * keeps the name of the mapping that had it first.
 */
function nameMapping(mappings: Buffer[], addr: number, size: number): void {
  const start = addr - (addr % SZ_4K);
  const known = mappings.find((m) => m.start === start);
  if (known) known.size = Math.max(known.size, addr - start + size);
  else mappings.push({ start, size: addr - start + size });
}

function isCoherent(v: unknown): v is { cpu_addr: number; dma_handle: number } {
  const c = v as { cpu_addr?: unknown; dma_handle?: unknown } | null;
  return typeof c?.cpu_addr === 'number' && typeof c.dma_handle === 'number';
}

/** The class name of a thrown value, read without running script code beyond a plain property read. */
function errorClass(e: unknown): string {
  try {
    const name = typeof e === 'object' && e !== null ? (e as { name?: unknown }).name : undefined;
    return typeof name === 'string' && name ? name : typeof e;
  } catch {
    return 'an exception';
  }
}
