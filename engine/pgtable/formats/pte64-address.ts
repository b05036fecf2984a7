/**
 * The 64-bit formats that keep an output address in place, from bit 12 up to a format's top bit,
 * in table and leaf entries alike: Arm LPAE (bits 47:12), VT-d second level and AMD v1 (51:12).
 * A leaf of 2^lg2 bytes holds its address aligned to that size: the bits below are attributes.
 */
import { PgtableFormat } from '../format.ts';

const TWO32 = 0x1_0000_0000;

export abstract class Pte64AddressFormat extends PgtableFormat {
  /** The address bits of the high word: 0xffff for bits 47:32, 0xfffff for 51:32. */
  protected abstract readonly addr_hi_mask: number;

  table_pa(lo: number, hi: number, _lvl: number): number {
    return ((lo & ~0xfff) >>> 0) + (hi & this.addr_hi_mask) * TWO32;
  }

  override table_frame(lo: number, hi: number, _lvl: number): number {
    return (lo >>> 12) | ((hi & this.addr_hi_mask) << 20);
  }

  leaf_pa(lo: number, hi: number, _lvl: number, lg2: number): number {
    if (lg2 >= 32) return (hi & this.addr_hi_mask & -(1 << (lg2 - 32))) * TWO32;
    return ((lo & -(1 << lg2)) >>> 0) + (hi & this.addr_hi_mask) * TWO32;
  }
}
