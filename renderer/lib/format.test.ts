import { describe, expect, it } from 'vitest';
import { addr, bytes, hexGrouped, hexPlain, size, sizeShort, word } from './format.ts';

describe('format', () => {
  it('groups and pads addresses', () => {
    expect(addr(0x8000_0000)).toBe('0x0000_8000_0000');
    expect(addr(0)).toBe('0x0000_0000_0000');
    expect(addr(2 ** 48)).toBe('0x0001_0000_0000_0000');
    expect(addr(Number.MAX_SAFE_INTEGER)).toBe('0x001f_ffff_ffff_ffff');
    expect(hexGrouped(0x201000)).toBe('0x20_1000');
    expect(hexPlain(0x8000_0000)).toBe('0x80000000');
  });
  it('names sizes exactly', () => {
    expect(size(4096)).toBe('4K');
    expect(size(0x200000)).toBe('2M');
    expect(size(0x40000000)).toBe('1G');
    expect(size(0x201000)).toBe('2052K');
    expect(size(24)).toBe('24B');
    expect(bytes(1.5 * 2 ** 30)).toBe('1.5 GiB');
    expect(bytes(4096)).toBe('4 KiB');
    // Exact, never rounded: one 4 KiB page unmapped from 4 MiB shows.
    expect(bytes(4 * 2 ** 20 - 4096)).toBe('4092 KiB');
    // Past four digits the exact form is no longer read at a glance: three digits, marked.
    expect(bytes(2 ** 20 + 1)).toBe('≈1.00 MiB');
    expect(bytes(9999)).toBe('9999 B');
  });
  it('a million 4 KiB pages read as GiB, not 4000000 KiB', () => {
    expect(bytes(1_000_000 * 4096)).toBe('≈3.81 GiB');
    expect(bytes(100_000 * 4096)).toBe('≈391 MiB');
    expect(bytes(4 * 2 ** 30)).toBe('4 GiB');
    // Rounding that reaches 1024 of a unit reads as 1 of the next.
    expect(bytes(2 ** 30 - 4096)).toBe('≈1.00 GiB');
  });
  it('a size column stays 7 characters wide at most', () => {
    expect(sizeShort(4096)).toBe('4K');
    expect(sizeShort(0x201000)).toBe('2052K');
    expect(sizeShort(1_000_000 * 4096)).toBe('≈3.81G');
    expect(sizeShort(100_000 * 4096)).toBe('≈391M');
    for (let n = 4096; n < 2 ** 53; n = n * 3 + 4096) expect(sizeShort(n).length).toBeLessThanOrEqual(7);
  });
  it('shows descriptor words', () => {
    expect(word(0x40000703)).toBe('4000_0703');
    expect(word(-1)).toBe('ffff_ffff');
  });
});
