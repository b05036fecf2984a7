/**
 * How one event argument is packed into the trace's 16-bit argument arena. Each argument gets a
 * 2-bit code in the event's header word, and takes 0, 1, 2 or 4 units of 16 bits:
 * most arguments are 0, small ids, protections or page sizes, so they cost nothing or 2 bytes;
 * addresses below 4 GiB cost 4; anything else (addresses above 4 GiB, negative errnos,
 * fractions) is stored as the exact float64 in 8 bytes.
 */

export const ARG_ZERO = 0;
export const ARG_U16 = 1;
export const ARG_U32 = 2;
export const ARG_F64 = 3;

/** Units of 16 bits each code takes. */
export const ARG_UNITS = [0, 1, 2, 4] as const;

/** Bits of the header word holding the argument codes: 2 bits × MAX_EVENT_FIELDS (7). */
export const CODE_BITS = 14;
export const CODE_MASK = (1 << CODE_BITS) - 1;

const f64 = new Float64Array(1);
const f64Units = new Uint16Array(f64.buffer);

/** Write `v` at `units[w]`; returns its code. The caller advances `w` by `ARG_UNITS[code]`. */
export function putArg(units: Uint16Array, w: number, v: number): number {
  // -0 is stored as 0: the trace keeps numbers, not their sign bit on zero.
  if (v === 0) return ARG_ZERO;
  if (v >>> 0 === v) {
    units[w] = v;
    if (v < 0x10000) return ARG_U16;
    units[w + 1] = v >>> 16;
    return ARG_U32;
  }
  f64[0] = v;
  units[w] = f64Units[0];
  units[w + 1] = f64Units[1];
  units[w + 2] = f64Units[2];
  units[w + 3] = f64Units[3];
  return ARG_F64;
}

export function getArg(units: Uint16Array, w: number, code: number): number {
  if (code === ARG_ZERO) return 0;
  if (code === ARG_U16) return units[w];
  if (code === ARG_U32) return units[w] + units[w + 1] * 0x10000;
  f64Units[0] = units[w];
  f64Units[1] = units[w + 1];
  f64Units[2] = units[w + 2];
  f64Units[3] = units[w + 3];
  return f64[0];
}

/** Offset (in units, from the event's first unit) of argument `field`, given the header's codes. */
export function argUnitOffset(codes: number, field: number): number {
  let w = 0;
  for (let k = 0; k < field; k++) w += ARG_UNITS[(codes >>> (2 * k)) & 3];
  return w;
}
