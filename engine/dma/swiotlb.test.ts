/**
 * swiotlb bouncing for untrusted devices through the real core and the real arm-smmu-v3 model: what
 * the device reaches around a small buffer, what comes back at unmap, each era's zeroing and slot
 * alignment, a full pool, and the pool as checkpointed state.
 */
import { describe, expect, it } from 'vitest';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE } from '../core/constants.ts';
import type { Device } from '../core/device.ts';
import type { KernelName } from '../core/kernel-profile.ts';
import { Machine } from '../core/machine.ts';
import { parse_options } from '../core/options.ts';
import { iommu_probe_device } from '../core/probe.ts';
import { device_dma } from '../core/translate.ts';
import { arm_smmu_v3 } from '../drivers/arm-smmu-v3/index.ts';
import { deepClone } from '../trace/deep-clone.ts';
import { dma_map_sg, dma_map_single, dma_unmap_sg, dma_unmap_single, type DmaSgEntry } from './dma-iommu.ts';
import { IO_TLB_DEFAULT_SIZE, IO_TLB_SIZE, swiotlb_pool } from './swiotlb.ts';

function lab(kernel: KernelName = 'v6.16') {
  const m = new Machine(kernel);
  const smmu = arm_smmu_v3.create(m, 'smmu0', parse_options(arm_smmu_v3.name, arm_smmu_v3.options, {}));
  m.iommus.push(smmu);
  const probe = (name: string, trusted: boolean) =>
    iommu_probe_device(m, name, smmu, { resv: [], group: null, bus: 'pci', trusted, default_domain: null });
  const trusted = probe('nic0', true);
  const ext = probe('tbt0', false);
  // A page holding a 0x100-byte buffer at 0x100 and its neighbours' bytes around it.
  const page = m.mem.alloc_pages(0x1000);
  m.mem.write(page, new Uint8Array(0x1000).fill(0xee));
  const buf = page + 0x100;
  m.mem.write(buf, new Uint8Array(0x100).fill(0x11));
  return { m, trusted, ext, page, buf };
}

const read = (dev: Device, iova: number, n: number) => device_dma(dev, iova, n, false);
/** A device read that must not fault (a fault fails the test with its reason). */
const readOk = (dev: Device, iova: number, n: number) => {
  const r = read(dev, iova, n);
  if (!r.ok) throw new Error(`${dev.name} faulted at ${iova.toString(16)}: ${r.fault.reason}`);
  return r;
};
const write = (dev: Device, iova: number, bytes: number[]) =>
  device_dma(dev, iova, bytes.length, true, Uint8Array.from(bytes));
const events = (m: Machine, name: string) => m.trace.slice(0, m.trace.length).filter((e) => e.name === name);

describe('dma_map_single of a small buffer', () => {
  it('a trusted device reaches the neighbours in its page; an untrusted one sees zeros past its bounce buffer', () => {
    const l = lab();
    const t = dma_map_single(l.trusted, l.buf, 0x100, DMA_TO_DEVICE);
    expect(readOk(l.trusted, t + 0x100, 4).data).toEqual(Uint8Array.of(0xee, 0xee, 0xee, 0xee));
    expect(readOk(l.trusted, t - 0x100, 4).data).toEqual(Uint8Array.of(0xee, 0xee, 0xee, 0xee));

    const u = dma_map_single(l.ext, l.buf, 0x100, DMA_TO_DEVICE);
    expect(u).not.toBe(DMA_MAPPING_ERROR);
    const pool = swiotlb_pool(l.m)!;
    expect(read(l.ext, u, 4)).toMatchObject({
      ok: true,
      pa: pool.start,
      data: Uint8Array.of(0x11, 0x11, 0x11, 0x11),
    });
    // The rest of the IOVA page is the bounce buffer's zeroed padding, not the neighbours.
    expect(readOk(l.ext, u + 0x100, 0xf00).data).toEqual(new Uint8Array(0xf00));
    expect(events(l.m, 'swiotlb_bounced')).toHaveLength(1);
  });

  it('an aligned buffer of whole granules is not bounced', () => {
    const l = lab();
    const dma = dma_map_single(l.ext, l.page, 0x1000, DMA_BIDIRECTIONAL);
    expect(readOk(l.ext, dma, 1).pa).toBe(l.page);
    expect(swiotlb_pool(l.m)).toBeNull();
  });

  it('the pool is 64 MiB of RAM below 4 GiB, set up on the first bounce, and shows as an allocation', () => {
    const l = lab();
    expect(swiotlb_pool(l.m)).toBeNull();
    dma_map_single(l.ext, l.buf, 0x100, DMA_TO_DEVICE);
    const pool = swiotlb_pool(l.m)!;
    expect(pool.nslabs * IO_TLB_SIZE).toBe(IO_TLB_DEFAULT_SIZE);
    expect(pool.end).toBeLessThanOrEqual(0x1_0000_0000);
    expect(events(l.m, 'swiotlb_init')).toMatchObject([{ start: pool.start, size: IO_TLB_DEFAULT_SIZE }]);
    expect(l.m.mem.pages()).toContainEqual({ pa: pool.start, size: IO_TLB_DEFAULT_SIZE });
  });

  it("an untrusted device's write past its buffer never reaches the neighbour; unmap copies back what it wrote inside", () => {
    const l = lab();
    const u = dma_map_single(l.ext, l.buf, 0x100, DMA_BIDIRECTIONAL);
    expect(write(l.ext, u + 0xfe, [1, 2, 3, 4]).ok).toBe(true); // two bytes in, two past the end
    expect(l.m.mem.read(l.buf + 0x100, 2)).toEqual(Uint8Array.of(0xee, 0xee)); // not yet: in the bounce buffer
    dma_unmap_single(l.ext, u, 0x100, DMA_BIDIRECTIONAL);
    expect(l.m.mem.read(l.buf + 0xfc, 4)).toEqual(Uint8Array.of(0x11, 0x11, 1, 2));
    expect(l.m.mem.read(l.buf + 0x100, 4)).toEqual(Uint8Array.of(0xee, 0xee, 0xee, 0xee));
    expect(swiotlb_pool(l.m)!.used).toBe(0);
    expect(read(l.ext, u, 4).ok).toBe(false);
  });

  it('DMA_TO_DEVICE copies nothing back at unmap', () => {
    const l = lab();
    const u = dma_map_single(l.ext, l.buf, 0x100, DMA_TO_DEVICE);
    // DMA_TO_DEVICE maps read-only: a write faults, so check the copy through the pool directly.
    l.m.mem.write(swiotlb_pool(l.m)!.start, [9, 9]);
    dma_unmap_single(l.ext, u, 0x100, DMA_TO_DEVICE);
    expect(l.m.mem.read(l.buf, 2)).toEqual(Uint8Array.of(0x11, 0x11));
  });
});

describe('DMA_FROM_DEVICE: what the device reads before it writes, per era', () => {
  it.each([
    ['v6.6', 0x00],
    ['v6.8', 0x00],
    ['v6.16', 0x11],
  ] as const)('%s: the bounce buffer holds %s', (kernel, byte) => {
    const l = lab(kernel);
    const u = dma_map_single(l.ext, l.buf, 0x100, DMA_FROM_DEVICE);
    expect(u).not.toBe(DMA_MAPPING_ERROR);
    // DMA_FROM_DEVICE maps write-only for the device: look at the bounce buffer it was given.
    const pa = swiotlb_pool(l.m)!.start + (u % 0x1000);
    expect(l.m.mem.read(pa, 0x100)).toEqual(new Uint8Array(0x100).fill(byte));
    expect(l.m.mem.read(pa + 0x100, 0xe00)).toEqual(new Uint8Array(0xe00));
    // A device that writes part of the buffer: at unmap the rest of the original is what the bounce
    // buffer held, so v6.6 clears it.
    write(l.ext, u, [7]);
    dma_unmap_single(l.ext, u, 0x100, DMA_FROM_DEVICE);
    expect(l.m.mem.read(l.buf, 2)).toEqual(Uint8Array.of(7, byte));
  });
});

describe('slot alignment, per era', () => {
  it('a buffer in the upper half of its page: v6.6 bounces it to the middle of a pool page, v6.16 to a page start', () => {
    for (const [kernel, off] of [
      ['v6.6', 0x800],
      ['v6.16', 0],
    ] as const) {
      const l = lab(kernel);
      const dma = dma_map_single(l.ext, l.page + 0x900, 0x40, DMA_TO_DEVICE);
      expect(dma % 0x1000).toBe(off);
      expect(readOk(l.ext, dma, 1).pa).toBe(swiotlb_pool(l.m)!.start + off);
    }
  });

  it("v6.6: a bounce buffer in the middle of a pool page shares it with another bounce buffer's data", () => {
    for (const kernel of ['v6.6', 'v6.16'] as const) {
      const l = lab(kernel);
      const other = l.m.mem.alloc_pages(0x2000);
      l.m.mem.write(other, new Uint8Array(0x2000).fill(0x33));
      // 0xc00 bytes from offset 0x900: v6.6 gives it slots 1–2, its data running into slot 2.
      const first = dma_map_single(l.ext, other + 0x900, 0xc00, DMA_TO_DEVICE);
      const second = dma_map_single(l.ext, l.page + 0x900, 0x40, DMA_TO_DEVICE);
      const page = second - (second % 0x1000);
      const seen = readOk(l.ext, page, 0x1000).data!;
      if (kernel === 'v6.6') {
        expect([first % 0x1000, second % 0x1000]).toEqual([0x800, 0x800]);
        // Slot 2, the first half of the second bounce buffer's IOVA page, is the first one's tail.
        expect(seen.subarray(0, 0x400)).toEqual(new Uint8Array(0x400).fill(0x33));
      } else {
        expect([first % 0x1000, second % 0x1000]).toEqual([0, 0]);
        expect(seen.subarray(0x40)).toEqual(new Uint8Array(0xfc0));
      }
    }
  });
});

describe('when the pool cannot serve', () => {
  it('a bounce larger than a segment (256 KiB) fails: dma_map_single returns DMA_MAPPING_ERROR', () => {
    const l = lab();
    const big = l.m.mem.alloc_pages(0x50000);
    expect(dma_map_single(l.ext, big + 0x10, 0x40010, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(events(l.m, 'swiotlb_find_slots').at(-1)?.tlb_addr).toBe(DMA_MAPPING_ERROR);
    expect(swiotlb_pool(l.m)!.used).toBe(0);
  });

  it('a pool that cannot have 64 MiB takes half, as swiotlb_init_remap halves at boot', () => {
    const l = lab();
    l.m.mem.fail_nth_alloc(1);
    expect(dma_map_single(l.ext, l.buf, 0x100, DMA_TO_DEVICE)).not.toBe(DMA_MAPPING_ERROR);
    expect(swiotlb_pool(l.m)!.nslabs * IO_TLB_SIZE).toBe(IO_TLB_DEFAULT_SIZE / 2);
  });

  it('without room for even 1 MiB below 4 GiB, bouncing is inactive: DMA_MAPPING_ERROR', () => {
    const l = lab();
    while (l.m.mem.alloc_pages(0x10_0000, 0x1000, 0x1_0000_0000));
    expect(dma_map_single(l.ext, l.buf, 0x100, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(swiotlb_pool(l.m)).toBeNull();
    // A trusted device is not bounced and still maps.
    expect(dma_map_single(l.trusted, l.buf, 0x100, DMA_TO_DEVICE)).not.toBe(DMA_MAPPING_ERROR);
  });
});

describe('dma_map_sg of an untrusted device', () => {
  it('maps each entry on its own, bouncing the ones that do not fill their granules', () => {
    const l = lab();
    const sg: DmaSgEntry[] = [
      { paddr: l.buf, length: 0x100 },
      { paddr: l.page, length: 0x1000 },
    ];
    expect(dma_map_sg(l.ext, sg, DMA_BIDIRECTIONAL)).toBe(2);
    const pool = swiotlb_pool(l.m)!;
    expect(readOk(l.ext, sg[0].dma_address!, 1).pa).toBe(pool.start);
    expect(readOk(l.ext, sg[1].dma_address!, 1).pa).toBe(l.page);
    expect(sg.map((s) => s.dma_length)).toEqual([0x100, 0x1000]);
    write(l.ext, sg[0].dma_address!, [5]);
    dma_unmap_sg(l.ext, sg, DMA_BIDIRECTIONAL);
    expect(l.m.mem.read(l.buf, 1)).toEqual(Uint8Array.of(5));
    expect(pool.used).toBe(0);
    expect(read(l.ext, sg[1].dma_address!, 1).ok).toBe(false);
  });
});

describe('the pool is machine state', () => {
  it('a checkpoint copy keeps the slots and bytes of a live bounce, and diverges from the original', () => {
    const l = lab();
    const u = dma_map_single(l.ext, l.buf, 0x100, DMA_BIDIRECTIONAL);
    const copy = deepClone(l.m);
    const pool = swiotlb_pool(copy)!;
    expect(pool).not.toBe(swiotlb_pool(l.m));
    expect(pool.used).toBe(2);
    dma_unmap_single(l.ext, u, 0x100, DMA_BIDIRECTIONAL);
    expect(pool.used).toBe(2);
    expect(copy.mem.read(pool.start, 2)).toEqual(Uint8Array.of(0x11, 0x11));
  });
});
