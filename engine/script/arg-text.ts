/**
 * How the trace shows an argument or result that is not a finite number (the text of an api_call
 * or api_return `v` field): handles by name (`domain 2`, `device nic0`, `iommu smmu0`), error
 * pointers as Linux prints them, strings quoted, NULL, byte arrays by length, other arrays and
 * objects in brief. A replay passes the values the call log kept (call-log.ts), so the text reads a
 * value as the log does (the same keys; functions and other odd values as the string the log makes
 * of them): a replayed call gives the same text, or time travel would see the trace diverge.
 */
import { errnoName } from '../core/errno.ts';
import { hex } from '../core/format.ts';
import { readable_keys } from './call-log.ts';
import { formatNumber, handleKeyText } from './format.ts';
import { GUARD } from './instrument.ts';
import type { HandleTable } from './handles.ts';

export { NUMBERED } from './format.ts';

/** A text longer than this is cut: a trace row is one line. */
const MAX_TEXT = 60;
/** Items of an array shown before `…`. */
const MAX_ITEMS = 4;

/** Integers from here up are addresses or sizes (expect.ts and the Trace panel show them in hex too). */
const HEX_FROM = 0x10000;

/** A number as the lab writes one inside a value: addresses and sizes in hex, the rest as written. */
export function numberText(v: number): string {
  return Number.isInteger(v) && v >= HEX_FROM ? hex(v) : formatNumber(v);
}

/**
 * A function's text without the guard calls the instrumenter put in it (instrument.ts): a function
 * reaches the trace as its source, through the call log's string of it too. No script can write
 * the guard's name, so no text of the script's own is touched.
 */
function withoutGuard(s: string): string {
  return s.includes(GUARD) ? s.replace(GUARD_CALL, '') : s;
}
const GUARD_CALL = new RegExp(`${GUARD}\\(\\)[;,]\\s?`, 'g');

/** A handle by name (`domain 2`, `device nic0`), an error pointer as Linux prints it; else undefined. */
export function handleText(v: unknown, handles: HandleTable): string | undefined {
  const slot = handles.slotOf(v);
  if (slot < 0) return undefined;
  const errno = handles.errnoOf(slot);
  if (errno) return `ERR_PTR(${errnoName(errno) ?? errno})`;
  const key = handles.keyOf(slot);
  return handleKeyText(key);
}

export function argText(v: unknown, handles: HandleTable): string {
  const s = brief(v, handles, 0);
  return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT - 1) + '…' : s;
}

function brief(v: unknown, handles: HandleTable, depth: number): string {
  if (typeof v === 'number') return numberText(v);
  if (typeof v === 'string') return JSON.stringify(withoutGuard(v));
  if (v === null) return 'NULL';
  if (v === undefined || typeof v === 'boolean') return String(v);
  if (typeof v !== 'object') return JSON.stringify(withoutGuard(String(v)));
  const handle = handleText(v, handles);
  if (handle !== undefined) return handle;
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (depth > 1) return Array.isArray(v) ? '[…]' : '{…}';
  if (Array.isArray(v)) {
    const items = v.slice(0, MAX_ITEMS).map((x) => brief(x, handles, depth + 1));
    return `[${items.join(', ')}${v.length > MAX_ITEMS ? ', …' : ''}]`;
  }
  const o = v as Record<string, unknown>;
  return `{${readable_keys(v)
    .map((k) => `${k}: ${brief(o[k], handles, depth + 1)}`)
    .join(', ')}}`;
}
