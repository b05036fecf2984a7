/**
 * The script's API calls and their results as short text, in order, for the matrix to compare
 * across drivers and kernels: every step and every query (iommu_get_group_resv_regions) made from
 * the script, except the lab's own `lab.*` functions, whose results describe the cell rather than
 * the driver (lab.kernel() names the cell's kernel; lab.mem.alloc's address depends on what the
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

/** A call's return value as text: `-ENODEV`, `0x80000000`, `domain 1`, `ERR_PTR(-EINVAL)`. */
export function resultText(v: unknown, handles: HandleTable): string {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return formatNumber(v);
    return errnoName(v) ?? (v >= HEX_FROM ? hex(v) : formatNumber(v));
  }
  const slot = handles.slotOf(v);
  if (slot >= 0) {
    const errno = handles.errnoOf(slot);
    if (errno) return `ERR_PTR(${errnoName(errno) ?? errno})`;
    const key = handles.keyOf(slot);
    return `${HANDLE_KIND[key[0]] ?? 'handle'} ${key.slice(2)}`;
  }
  const text = formatValue(v).replace(/\s*\n\s*/g, ' ');
  if (text.length <= MAX_RET_CHARS) return text;
  const h = new Hash64();
  h.string(text);
  return `${text.slice(0, MAX_RET_CHARS)}… #${h.hex().slice(0, 8)}`;
}

/** Per API entry: whether its results are compared (not one of the lab's own functions). */
const COMPARED = API_NAMES.map((name) => !name.startsWith('lab.'));

/** The recorder a lab calls after each call the script makes (lab-context.ts `call`). */
export class CallResultLog {
  readonly calls: CallResult[] = [];

  constructor(
    private readonly handles: HandleTable,
    private readonly site: CallSite,
  ) {}

  /** `step`: the step the call made, or for a query the step it came after. */
  returned(step: number, id: number, ret: unknown): void {
    if (COMPARED[id] && this.calls.length < MAX_CALL_RESULTS)
      this.calls.push({ step, fn: API_NAMES[id], ret: resultText(ret, this.handles), ...this.site() });
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
