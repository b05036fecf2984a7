/** 0x-prefixed hex for messages and trace text. */
export function hex(n: number): string {
  return '0x' + n.toString(16);
}

/**
 * A value as an error message shows it: what the script passed, whatever its type (JSON would
 * drop a Symbol, print NaN as null and throw on a bigint).
 */
export function show_value(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n (a bigint)`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'symbol') return v.toString();
  if (Array.isArray(v)) return `[${v.map(show_value).join(', ')}]`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}
