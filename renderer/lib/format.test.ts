import { describe, expect, it } from 'vitest';
import { addr, bytes, hexGrouped, hexPlain, size, word } from './format.ts';

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
    expect(bytes(2 ** 20 + 1)).toBe('1048577 B');
  });
  it('shows descriptor words', () => {
    expect(word(0x40000703)).toBe('4000_0703');
    expect(word(-1)).toBe('ffff_ffff');
  });
});
