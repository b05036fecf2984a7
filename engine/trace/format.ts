import type { FieldType } from './events.ts';

/** `0x1000`, `-0x16`: addresses and sizes read as hex, as in QEMU's trace output. */
export function hex(v: number): string {
  return v < 0 ? '-0x' + (-v).toString(16) : '0x' + v.toString(16);
}

/**
 * A `c` field holds `name id × CALL_KINDS + kinds`, 2 bits of kinds per `v` field (field k's at
 * bit 2(k − 1), the `c` being field 0). Packed below the name, the kinds cost nothing while the
 * string table is short: a call event stays as small as when its arguments were all numbers.
 */
export const CALL_KINDS = 4096;
/**
 * What a `v` field holds: a number as given; nothing (an argument not passed, a void return); a text
 * (its string id); or a numbered name, `domain 2`: `number × NAMES + the name's string id`, for the
 * handles a script may make thousands of (gathers), where a text each would grow the string table.
 */
export const V_NUMBER = 0;
export const V_NONE = 1;
export const V_TEXT = 2;
export const V_NUMBERED = 3;
/** A numbered name's name is among the first NAMES strings (the lab interns them first). */
export const NAMES = 256;

/** The string id of a `c` field's name. */
export function callName(raw: number): number {
  return Math.floor(raw / CALL_KINDS);
}

/** The kind of `v` field `field` of an event whose `c` field (its first) reads `call`. */
export function valueKind(call: number, field: number): number {
  return ((call % CALL_KINDS) >>> (2 * (field - 1))) & 3;
}

/**
 * The value a field has in a materialised event (`TraceEvent`); undefined for a `v` field holding
 * nothing. `kind` matters for `v` fields only.
 */
export function fieldValue(
  type: FieldType,
  raw: number,
  strings: readonly string[],
  kind = V_NUMBER,
): number | string | boolean | undefined {
  if (type === 's') return strings[raw] ?? '';
  if (type === 'c') return strings[callName(raw)] ?? '';
  if (type === 'b') return raw !== 0;
  if (type === 'v' && kind !== V_NUMBER) return kind === V_NONE ? undefined : valueText(raw, strings, kind);
  return raw;
}

/** The text of a `v` field that holds one (V_TEXT, V_NUMBERED). */
function valueText(raw: number, strings: readonly string[], kind: number): string {
  if (kind === V_TEXT) return strings[raw] ?? '';
  return `${strings[raw % NAMES] ?? ''} ${Math.floor(raw / NAMES)}`;
}

/**
 * The text a field shows in the Trace panel and in CSV: hex for `x`, the string for `s`; a `v`
 * number in hex unless negative (an errno), its text as recorded, nothing as ''.
 */
export function fieldText(type: FieldType, raw: number, strings: readonly string[], kind = V_NUMBER): string {
  switch (type) {
    case 's':
      return strings[raw] ?? '';
    case 'c':
      return strings[callName(raw)] ?? '';
    case 'b':
      return raw !== 0 ? 'true' : 'false';
    case 'x':
      return hex(raw);
    case 'v':
      if (kind === V_NUMBER) return raw < 0 ? String(raw) : hex(raw);
      return kind === V_NONE ? '' : valueText(raw, strings, kind);
    default:
      return String(raw);
  }
}

/** One CSV cell (RFC 4180): quoted only when it has to be. */
export function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}
