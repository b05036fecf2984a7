/**
 * How addresses and sizes read in the panels: hex with `0x`, digits grouped by four with `_`
 * (0x0000_8000_0000), padded to 48 bits so columns line up (64 bits when larger). Copying gives
 * the plain C form (0x80000000).
 */

const TWO48 = 2 ** 48;

/** Grouped, padded hex: 0x0000_8000_0000. */
export function addr(n: number, minDigits = n < TWO48 ? 12 : 16): string {
  if (!Number.isFinite(n) || n < 0) return String(n);
  const digits = Math.floor(n).toString(16).padStart(minDigits, '0');
  return `0x${group4(digits)}`;
}

/** Grouped hex without padding: 0x20_1000. */
export function hexGrouped(n: number): string {
  return addr(n, 1);
}

/** The C literal: 0x80000000. */
export function hexPlain(n: number): string {
  return Number.isFinite(n) && n >= 0 ? `0x${Math.floor(n).toString(16)}` : String(n);
}

function group4(digits: string): string {
  let out = '';
  for (let i = digits.length; i > 0; i -= 4)
    out = digits.slice(Math.max(0, i - 4), i) + (out ? `_${out}` : '');
  return out;
}

const UNITS: [number, string][] = [
  [2 ** 50, 'P'],
  [2 ** 40, 'T'],
  [2 ** 30, 'G'],
  [2 ** 20, 'M'],
  [2 ** 10, 'K'],
];

/** An exact size in the largest binary unit that divides it: 4K, 2M, 2052K, 24B. */
export function size(n: number): string {
  if (n === 0) return '0';
  for (const [u, s] of UNITS) if (n >= u && n % u === 0) return `${n / u}${s}`;
  return `${n}B`;
}

/** Three significant digits: 3.81, 39.1, 391. */
function approx(v: number): string {
  return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
}

/** The largest unit `n` reaches, and `n` in it to three digits (≈1024 of one unit reads as 1 of the next). */
function approxIn(n: number): { v: string; unit: string } {
  const i = UNITS.findIndex(([u]) => n >= u);
  if (i < 0) return { v: String(n), unit: '' };
  const [u, unit] = UNITS[i]!;
  const v = approx(n / u);
  if (v === '1024' && i > 0) return { v: approx(n / UNITS[i - 1]![0]), unit: UNITS[i - 1]![1] };
  return { v, unit };
}

/**
 * A size for totals: exact where that stays short — the largest unit that gives it with at most one
 * decimal (1.5 GiB, 12 KiB), or a smaller one under 10 000 (4092 KiB: a page off 4 MiB stays
 * visible) — else rounded to three digits and marked so: ≈3.81 GiB (a million 4 KiB pages), not
 * 4000000 KiB. Callers show the exact bytes in a tooltip.
 */
export function bytes(n: number): string {
  const i = UNITS.findIndex(([u]) => n >= u);
  if (i < 0) return `${n} B`;
  const [u, unit] = UNITS[i]!;
  if (Number.isInteger((n / u) * 10)) return `${n / u} ${unit}iB`;
  for (const [v, s] of [...UNITS.slice(i + 1), [1, ''] as [number, string]])
    if (Number.isInteger((n / v) * 10) && n / v < 10_000) return `${n / v} ${s}${s ? 'i' : ''}B`;
  const a = approxIn(n);
  return `≈${a.v} ${a.unit}iB`;
}

/** A size for a column of at most 7 characters: exact (`size`) when it fits in 6, else ≈3.81G. */
export function sizeShort(n: number): string {
  const exact = size(n);
  if (exact.length <= 6) return exact;
  const a = approxIn(n);
  return `≈${a.v}${a.unit || 'B'}`;
}

/** Thousands separated by thin spaces: 1 048 576. */
export function count(n: number): string {
  return n.toLocaleString('en-US').replace(/,/g, '\u2009');
}

/** A 32-bit word as 8 grouped hex digits (page-table descriptors): 0000_0000. */
export function word(n: number): string {
  return group4((n >>> 0).toString(16).padStart(8, '0'));
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (an unfocused page, an old browser): the selection way still works.
    const t = document.createElement('textarea');
    t.value = text;
    t.style.position = 'fixed';
    t.style.opacity = '0';
    document.body.append(t);
    t.select();
    const ok = document.execCommand('copy');
    t.remove();
    return ok;
  }
}
