import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE, PhysMem } from './phys-mem.ts';

describe('PhysMem allocator', () => {
  it("gives a released memory's chunks to the next one zeroed, and reads as zeros once released", () => {
    const old = new PhysMem();
    const pa = old.alloc_pages(3 * CHUNK_SIZE);
    for (let k = 0; k < 3; k++) old.write(pa + k * CHUNK_SIZE + 0x1234, [9, 8, 7, 6]);
    old.release();
    expect([...old.read(pa + 0x1234, 4)]).toEqual([0, 0, 0, 0]);
    const mem = new PhysMem();
    const b = mem.alloc_pages(3 * CHUNK_SIZE);
    mem.write(b + 0x10, [1]); // makes the first chunk: a reused one
    expect([...mem.read(b + 0x1234, 4)]).toEqual([0, 0, 0, 0]);
    for (let k = 1; k < 3; k++) {
      mem.write(b + k * CHUNK_SIZE, [1]);
      expect([...mem.read(b + k * CHUNK_SIZE + 0x1234, 4)]).toEqual([0, 0, 0, 0]);
    }
  });

  it('hands out zeroed, aligned pages from ram_base and never returns 0 on success', () => {
    const mem = new PhysMem();
    const a = mem.alloc_pages(4096);
    expect(a).toBe(0x4000_0000);
    const b = mem.alloc_pages(100);
    expect(b).toBe(0x4000_1000);
    const c = mem.alloc_pages(0x4000, 0x4000);
    expect(c % 0x4000).toBe(0);
    expect(mem.allocated_bytes).toBe(0x1000 + 0x1000 + 0x4000);
    expect(mem.read(c, 16)).toEqual(new Uint8Array(16));
  });

  it('reuses freed pages, zeroed again, last freed first', () => {
    const mem = new PhysMem();
    const a = mem.alloc_pages(4096);
    const b = mem.alloc_pages(4096);
    mem.write(a, [1, 2, 3]);
    mem.write(b, [4, 5, 6]);
    mem.free_pages(a, 4096);
    mem.free_pages(b, 4096);
    expect(mem.allocated_bytes).toBe(0);
    expect(mem.alloc_pages(4096)).toBe(b);
    expect(mem.alloc_pages(4096)).toBe(a);
    expect([...mem.read(a, 3)]).toEqual([0, 0, 0]);
  });

  it('keeps pages skipped for alignment usable', () => {
    const mem = new PhysMem();
    const a = mem.alloc_pages(4096);
    const big = mem.alloc_pages(0x10000, 0x10000);
    expect(big).toBe(0x4001_0000);
    // The 15 pages between a and big are reused before the pool grows.
    const next = mem.alloc_pages(4096);
    expect(next).toBeGreaterThan(a);
    expect(next).toBeLessThan(big);
  });

  it('is deterministic', () => {
    const run = () => {
      const mem = new PhysMem();
      const out: number[] = [];
      for (let i = 0; i < 50; i++) {
        out.push(mem.alloc_pages(4096 * (1 + (i % 3)), i % 5 === 0 ? 0x4000 : 4096));
        if (i % 4 === 3) mem.free_pages(out[i - 2], 4096 * (1 + ((i - 2) % 3)));
      }
      return out;
    };
    expect(run()).toEqual(run());
  });

  it('fail_nth_alloc makes exactly the n-th next allocation fail', () => {
    const mem = new PhysMem();
    mem.fail_nth_alloc(2);
    expect(mem.alloc_pages(4096)).not.toBe(0);
    expect(mem.alloc_pages(4096)).toBe(0);
    expect(mem.alloc_pages(4096)).not.toBe(0);
    mem.fail_nth_alloc(1);
    mem.fail_nth_alloc(0);
    expect(mem.alloc_pages(4096)).not.toBe(0);
  });

  it('returns 0 when the pool is exhausted', () => {
    const mem = new PhysMem({ ram_size: CHUNK_SIZE });
    expect(mem.alloc_pages(CHUNK_SIZE)).toBe(0x4000_0000);
    expect(mem.alloc_pages(4096)).toBe(0);
  });

  it('keeps an allocation below a limit: a freed block below it, else 0 once the pool has grown past it', () => {
    const mem = new PhysMem({ ram_base: 0x20_0000, ram_size: 0x40_0000 });
    const limit = 0x30_0000;
    const low = mem.alloc_pages(0x1000);
    mem.alloc_pages(0x10_0000); // the pool grows past the limit
    mem.free_pages(low, 0x1000);
    expect(mem.alloc_pages(0x1000, 0x1000, limit)).toBe(low);
    expect(mem.alloc_pages(0x1000, 0x1000, limit)).toBe(0);
    expect(mem.alloc_pages(0x1000)).toBeGreaterThanOrEqual(limit);
  });

  it('lists live allocations and rejects bad frees', () => {
    const mem = new PhysMem();
    const a = mem.alloc_pages(8192);
    const b = mem.alloc_pages(4096);
    expect(mem.pages()).toEqual([
      { pa: a, size: 8192 },
      { pa: b, size: 4096 },
    ]);
    expect(() => mem.free_pages(a, 4096)).toThrow(RangeError);
    expect(() => mem.free_pages(a + 4096, 4096)).toThrow(/not an allocated block/);
    mem.free_pages(a, 8192);
    expect(mem.pages()).toEqual([{ pa: b, size: 4096 }]);
  });

  it('validates arguments with a RangeError naming them', () => {
    const mem = new PhysMem();
    expect(() => mem.alloc_pages(-1)).toThrow(/size/);
    expect(() => mem.alloc_pages(1.5)).toThrow(/size/);
    expect(() => mem.alloc_pages(4096, 3000 * 2)).toThrow(/align/);
    expect(() => mem.read(-4, 4)).toThrow(/pa/);
    expect(() => mem.read(0, 2 ** 60)).toThrow(/length/);
    expect(() => mem.write(0, [256])).toThrow(/bytes\[0\]/);
    expect(() => mem.write(0, 'abc' as unknown as number[])).toThrow(/bytes/);
  });
});

describe('PhysMem bytes and words', () => {
  it('reads zeros where nothing was written, anywhere', () => {
    const mem = new PhysMem();
    expect(mem.read(0, 8)).toEqual(new Uint8Array(8));
    expect(mem.read(0x1234_5678_9000, 8)).toEqual(new Uint8Array(8));
    expect(mem.read_u32(0x4000_0000)).toBe(0);
  });

  it('round-trips bytes across page and chunk boundaries, inside and outside RAM', () => {
    const mem = new PhysMem();
    const data = Uint8Array.from({ length: 10000 }, (_, i) => (i * 7) & 0xff);
    for (const pa of [0x1ffe, 0x4000_0000 + CHUNK_SIZE - 3, 0xfee0_0000, 0x10_0000_0ffd]) {
      mem.write(pa, data);
      expect(mem.read(pa, data.length)).toEqual(data);
    }
  });

  it('accepts plain arrays of bytes', () => {
    const mem = new PhysMem();
    mem.write(0x100, [0xde, 0xad, 0xbe, 0xef]);
    expect(mem.read_u32(0x100)).toBe(0xefbeadde);
  });

  it('reads and writes 32- and 64-bit words, aligned or not', () => {
    const mem = new PhysMem();
    mem.write_u32(0x4000_0004, 0x89abcdef);
    expect(mem.read_u32(0x4000_0004)).toBe(0x89abcdef);
    mem.write_u32(0x4000_0101, 0x01020304);
    expect(mem.read_u32(0x4000_0101)).toBe(0x01020304);
    expect([...mem.read(0x4000_0101, 4)]).toEqual([4, 3, 2, 1]);
    mem.write_u64(0x8000, 0x000f_1234_5678_9abc);
    expect(mem.read_u64(0x8000)).toBe(0x000f_1234_5678_9abc);
  });

  it('gives walkers word views without copying', () => {
    const mem = new PhysMem();
    const pa = mem.alloc_pages(4096);
    const w = mem.view_w(pa + 8);
    w[mem.view_off] = 0x1234;
    expect(mem.read_u32(pa + 8)).toBe(0x1234);
    const r = mem.view(pa + 8);
    expect(r[mem.view_off]).toBe(0x1234);
    expect(mem.words_left(pa)).toBe((CHUNK_SIZE - (pa - 0x4000_0000)) / 4);
  });
});
