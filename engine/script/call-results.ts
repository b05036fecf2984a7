/**
 * The script's API calls and their results as short text, in order, for the matrix to compare
 * across drivers and kernels: every step and every query (iommu_iova_to_phys) made from the
 * script, except the lab's own `lab.*` functions and the reserved-region queries, whose results
 * describe the cell rather than how the driver answers (lab.kernel() names the cell's kernel; lab.mem.alloc's address depends on what the
 * driver's page tables took before). Only the first MAX_CALL_RESULTS calls are kept: where drivers
 * part ways is nearly always early, and a cell must stay small whatever the scenario does.
 */
import { errnoName } from '../core/errno.ts';
import { hex } from '../core/format.ts';
import { Hash64 } from '../trace/hash64.ts';
import { API_NAMES } from './api.ts';
import { formatNumber, formatValue } from './format.ts';
import type { HandleTable } from './handles.ts';
import type { CallResult } from './result.ts';

export const MAX_CALL_RESULTS = 2000;

/** Integers from here up are addresses or sizes (expect.ts and the Trace panel show them in hex too). */
const HEX_FROM = 0x10000;

/** A longer result (a list of regions) is cut, with a hash of the whole so two cuts still compare. */
const MAX_RET_CHARS = 160;

/** Where the script made the call being recorded (the runner reads it from the stack). */
export type CallSite = () => { file?: string; line: number } | undefined;

/** What a handle's key (handles.ts: `d:3`, `v:nic0`, `e:-22`) reads as in a result. */
const HANDLE_KIND: Record<string, string> = {
  d: 'domain',
  g: 'group',
  t: 'gather',
  v: 'device',
  i: 'iommu',
  b: 'bus',
};

/** A number in a result: addresses and sizes in hex, as everywhere else in the lab. */
function numberText(v: number): string {
  return Number.isInteger(v) && v >= HEX_FROM ? hex(v) : formatNumber(v);
}

/** A block the script got from lab.mem.alloc, in the order it asked. */
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

/** Fields of a result object that hold physical addresses (a DMA result's `pa`). */
const PHYS_FIELDS = new Set(['pa', 'paddr', 'phys']);

/**
 * `v` with the physical addresses in buffers replaced by their names: fields named as physical
 * addresses, in plain objects and arrays (an IOVA that happens to fall in a buffer's range stays a
 * number).
 */
function withBufferNames(v: unknown, buffers: readonly Buffer[]): unknown {
  if (Array.isArray(v)) return v.map((x) => withBufferNames(x, buffers));
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [
        k,
        PHYS_FIELDS.has(k) && typeof x === 'number' && Number.isInteger(x)
          ? (bufferName(x, buffers) ?? x)
          : withBufferNames(x, buffers),
      ]),
    );
  return v;
}

/**
 * A call's return value as text: `-ENODEV`, `0x80000000`, `domain 1`, `ERR_PTR(-EINVAL)`; with
 * `physical` (iommu_iova_to_phys), an address in a buffer the script allocated as `buf1+0x10`.
 */
export function resultText(
  v: unknown,
  handles: HandleTable,
  buffers: readonly Buffer[] = [],
  physical = false,
): string {
  if (typeof v === 'number') {
    const name = physical && Number.isInteger(v) ? bufferName(v, buffers) : undefined;
    return errnoName(v) ?? name ?? numberText(v);
  }
  const slot = handles.slotOf(v);
  if (slot >= 0) {
    const errno = handles.errnoOf(slot);
    if (errno) return `ERR_PTR(${errnoName(errno) ?? errno})`;
    const key = handles.keyOf(slot);
    return `${HANDLE_KIND[key[0]] ?? 'handle'} ${key.slice(2)}`;
  }
  const text = formatValue(withBufferNames(v, buffers), numberText).replace(/\s*\n\s*/g, ' ');
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

/** Per API entry: whether its results are compared. */
const COMPARED = API_NAMES.map((name) => !name.startsWith('lab.') && !PLATFORM_QUERIES.has(name));

/** The recorder a lab calls after each call the script makes (lab-context.ts `call`). */
export class CallResultLog {
  readonly calls: CallResult[] = [];
  private readonly buffers: Buffer[] = [];

  constructor(
    private readonly handles: HandleTable,
    private readonly site: CallSite,
  ) {}

  /**
   * `step`: the step the call made, or for a query the step it came after; `size`, lab.mem.alloc's
   * argument (later results name addresses in that buffer by it).
   */
  returned(step: number, id: number, ret: unknown, size?: unknown): void {
    if (id === MEM_ALLOC && typeof ret === 'number' && typeof size === 'number')
      this.buffers.push({ start: ret, size });
    if (COMPARED[id] && this.calls.length < MAX_CALL_RESULTS)
      this.calls.push({
        step,
        fn: API_NAMES[id],
        ret: resultText(ret, this.handles, this.buffers, id === IOVA_TO_PHYS),
        ...this.site(),
      });
  }

  threw(step: number, id: number, e: unknown): void {
    if (COMPARED[id] && this.calls.length < MAX_CALL_RESULTS)
      this.calls.push({ step, fn: API_NAMES[id], threw: errorClass(e), ...this.site() });
  }
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
