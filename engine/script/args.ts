import { hex, show_value } from '../core/format.ts';
import { end_fits } from '../mem/phys-mem.ts';
/** Argument checks at the script boundary: errors name the argument and what it must be. */

export function u64(name: string, v: unknown): number {
  if (typeof v === 'bigint')
    throw new RangeError(`${name} must be a number, not a bigint (addresses are safe integers)`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`${name} must be a non-negative safe integer (got ${describe(v)})`);
  return v;
}

/**
 * A range given as `start` + `length` (both checked with u64) must end by 2^53, where the lab's
 * addresses stop being exact (Linux's u64 arithmetic goes on; the lab cannot).
 */
export function ends_by_2_53(startName: string, start: number, lengthName: string, length: number): void {
  if (!end_fits(start, length))
    throw new RangeError(
      `${startName} + ${lengthName} must end by 2^53, where the lab's addresses stop being exact (got 0x${start.toString(16)} + 0x${length.toString(16)})`,
    );
}

/** The most bytes one read hands back (a Uint8Array of it must be possible to make). */
export const MAX_READ_BYTES = 2 ** 32;

/** A read's length: a byte count the read can hand back, at most MAX_READ_BYTES. */
export function read_length(name: string, v: unknown): number {
  const n = u64(name, v);
  if (n > MAX_READ_BYTES)
    throw new RangeError(`${name} must be at most 4 GiB (0x1_0000_0000) for one read (got ${hex(n)})`);
  return n;
}

/**
 * The most bytes one device access moves. A device moves data in transfers of a few pages (Linux's
 * default max segment is 64 KiB); a gigabyte in one call would hold the lab for seconds, past any
 * time limit, since one access is one step.
 */
export const MAX_DMA_BYTES = 64 * 2 ** 20;

/** A device access's byte count, at most MAX_DMA_BYTES. */
export function dma_length(name: string, n: number): number {
  if (n > MAX_DMA_BYTES)
    throw new RangeError(
      `${name} must be at most 64 MiB (0x4000000) for one device access; split a larger transfer (got ${hex(n)})`,
    );
  return n;
}

export function int(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new RangeError(`${name} must be a safe integer, at most 2^53 − 1 in size (got ${describe(v)})`);
  return v;
}

export function str(name: string, v: unknown): string {
  if (typeof v !== 'string' || v === '')
    throw new TypeError(`${name} must be a non-empty string (got ${describe(v)})`);
  return v;
}

export function bytesOf(name: string, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) {
    // An index loop, not forEach: a hole ([, 1]) is no byte value either.
    for (let i = 0; i < v.length; i++) {
      const b: unknown = v[i];
      if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255)
        throw new RangeError(
          `${name}[${i}] must be a byte value 0–255 (got ${i in v ? describe(b) : 'a hole'})`,
        );
    }
    return Uint8Array.from(v as number[]);
  }
  throw new TypeError(`${name} must be a Uint8Array or an array of byte values (got ${describe(v)})`);
}

/** What a script passed, for an error message (arrays shown as 'an array': they can be long). */
export function describe(v: unknown): string {
  return Array.isArray(v) ? 'an array' : show_value(v);
}
