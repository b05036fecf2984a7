import type { FieldType } from './events.ts';

/** `0x1000`, `-0x16`: addresses and sizes read as hex, as in QEMU's trace output. */
export function hex(v: number): string {
  return v < 0 ? '-0x' + (-v).toString(16) : '0x' + v.toString(16);
}

/** The value a field has in a materialised event (`TraceEvent`). */
export function fieldValue(
  type: FieldType,
  raw: number,
  strings: readonly string[],
): number | string | boolean {
  if (type === 's') return strings[raw] ?? '';
  if (type === 'b') return raw !== 0;
  return raw;
}

/** The text a field shows in the Trace panel and in CSV: hex for `x`, the string for `s`. */
export function fieldText(type: FieldType, raw: number, strings: readonly string[]): string {
  switch (type) {
    case 's':
      return strings[raw] ?? '';
    case 'b':
      return raw !== 0 ? 'true' : 'false';
    case 'x':
      return hex(raw);
    default:
      return String(raw);
  }
}

/** One CSV cell (RFC 4180): quoted only when it has to be. */
export function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}
