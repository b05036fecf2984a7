/**
 * The DMA API through the real core and the real arm-smmu-v3 model: IOVA order, reserved regions,
 * the PCI 32-bit preference, strict and lazy unmap as a device sees them, coherent buffers.
 */
import { describe, expect, it } from 'vitest';
import { iommu_paging_domain_alloc } from '../core/alloc.ts';
import { iommu_attach_device, iommu_device_claim_dma_owner } from '../core/attach.ts';
import {
  DMA_BIDIRECTIONAL,
  DMA_BIT_MASK,
  DMA_FROM_DEVICE,
  DMA_MAPPING_ERROR,
  DMA_TO_DEVICE,
  IOMMU_DOMAIN_BLOCKED,
  IOMMU_DOMAIN_DMA,
  IOMMU_DOMAIN_DMA_FQ,
  IOMMU_RESV_DIRECT,
  IOMMU_RESV_RESERVED,
  MSI_IOVA_BASE,
} from '../core/constants.ts';
import type { Bus, DefaultDomainRequest } from '../core/device.ts';
import type { IommuDomain } from '../core/domain.ts';
import { Machine } from '../core/machine.ts';
import { parse_options } from '../core/options.ts';
import { iommu_probe_device } from '../core/probe.ts';
import type { ResvRegion } from '../core/resv.ts';
import { device_dma } from '../core/translate.ts';
import { iommu_iova_to_phys } from '../core/unmap.ts';
import { arm_smmu_v3 } from '../drivers/arm-smmu-v3/index.ts';
import { deepClone } from '../trace/deep-clone.ts';
import {
  dma_alloc_coherent,
  dma_fq_length,
  dma_free_coherent,
  dma_iova_ranges,
  dma_map_sg,
  dma_map_single,
  dma_set_mask_and_coherent,
  dma_unmap_sg,
  dma_unmap_single,
  type DmaSgEntry,
} from './dma-iommu.ts';
import { EIO } from '../core/errno.ts';
import { dev_dma_state } from './device-dma.ts';

interface Setup {
  /** arm-smmu-v3 options (`granule`). */
  smmu?: Record<string, unknown>;
  default_domain?: DefaultDomainRequest;
  resv?: ResvRegion[];
  bus?: Bus;
  group?: string;
}

function lab(o: Setup = {}) {
  const m = new Machine('v6.16');
  const smmu = arm_smmu_v3.create(
    m,
    'smmu0',
    parse_options(arm_smmu_v3.name, arm_smmu_v3.options, o.smmu ?? {}),
  );
  m.iommus.push(smmu);
  const dev = iommu_probe_device(m, 'nic0', smmu, {
    resv: o.resv ?? [],
    group: o.group ?? null,
    bus: o.bus ?? 'pci',
    trusted: true,
    default_domain: o.default_domain ?? null,
  });
  const domain = dev.group!.domain as IommuDomain;
  const buf = m.mem.alloc_pages(0x10000);
  return { m, smmu, dev, domain, buf };
}

const read = (l: ReturnType<typeof lab>, iova: number, n = 4) => device_dma(l.dev, iova, n, false);
const checkIds = (m: Machine) => m.checks.map((c) => c.id);

describe('dma_map_single over an SMMUv3 DMA domain', () => {
  it('is strict by default on arm64 and hands out IOVAs top-down from 4 GiB, keeping the page offset', () => {
    const l = lab();
    expect(l.domain.type).toBe(IOMMU_DOMAIN_DMA);
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE)).toBe(0xffff_f000);
    expect(dma_map_single(l.dev, l.buf + 0x1000, 0x1000, DMA_TO_DEVICE)).toBe(0xffff_e000);
    expect(dma_map_single(l.dev, l.buf + 0x2123, 0x10, DMA_TO_DEVICE)).toBe(0xffff_d123);
    expect(iommu_iova_to_phys(l.domain, 0xffff_d123)).toBe(l.buf + 0x2123);
  });

  it('maps a zero-length buffer as __iommu_dma_map sizes it: the granule its offset falls in, or nothing', () => {
    const l = lab();
    // iova_align(0 + 0x10) is one granule: mapped, and the handle keeps the offset.
    const a = dma_map_single(l.dev, l.buf + 0x10, 0, DMA_BIDIRECTIONAL);
    expect(a).toBe(0xffff_f010);
    expect(iommu_iova_to_phys(l.domain, a)).toBe(l.buf + 0x10);
    // At offset 0 nothing is mapped, but alloc_iova_fast still takes a granule (roundup_pow_of_two(0) is 1).
    const b = dma_map_single(l.dev, l.buf, 0, DMA_BIDIRECTIONAL);
    expect(b).toBe(0xffff_e000);
    expect(iommu_iova_to_phys(l.domain, b)).toBe(0);
    dma_unmap_single(l.dev, a, 0, DMA_BIDIRECTIONAL);
    dma_unmap_single(l.dev, b, 0, DMA_BIDIRECTIONAL);
    expect(iommu_iova_to_phys(l.domain, a)).toBe(0);
    expect(l.m.checks).toEqual([]);
  });

  it('rounds small sizes up to a power of two of pages and aligns the start to it', () => {
    const l = lab();
    expect(dma_map_single(l.dev, l.buf, 0x3000, DMA_BIDIRECTIONAL)).toBe(0xffff_c000);
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_BIDIRECTIONAL)).toBe(0xffff_b000);
    // 33 pages: not rounded (≥ 32 granules), but the start is aligned to 64 pages
    const big = dma_map_single(l.dev, l.buf, 0x21000, DMA_BIDIRECTIONAL);
    expect(big % 0x40000).toBe(0);
    expect(dma_iova_ranges(l.domain)).toContainEqual({ start: big, end: big + 0x21000 - 1, state: 'live' });
    expect(dma_iova_ranges(l.domain)).toContainEqual({ start: 0xffff_c000, end: 0xffff_ffff, state: 'live' });
  });

  it('keeps DIRECT and RESERVED regions out of the allocator, but not the SW_MSI window', () => {
    const l = lab({
      resv: [
        { start: 0xffff_e000, length: 0x2000, prot: 3, type: IOMMU_RESV_DIRECT },
        { start: 0xffff_c000, length: 0x1000, prot: 0, type: IOMMU_RESV_RESERVED },
      ],
    });
    // the core mapped the DIRECT region 1:1 in the default domain
    expect(iommu_iova_to_phys(l.domain, 0xffff_e000)).toBe(0xffff_e000);
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE)).toBe(0xffff_d000);
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE)).toBe(0xffff_b000);
    const reserved = dma_iova_ranges(l.domain).filter((r) => r.state === 'reserved');
    expect(reserved).toEqual([
      { start: 0xffff_c000, end: 0xffff_cfff, state: 'reserved' },
      { start: 0xffff_e000, end: 0xffff_ffff, state: 'reserved' },
    ]);
    expect(reserved.some((r) => r.start <= MSI_IOVA_BASE && MSI_IOVA_BASE <= r.end)).toBe(false);
  });

  it("reserves the regions of the device that set the cookie up, not a later group member's", () => {
    // iommu_dma_init_domain returns early once the cookie is initialised: Linux never reserves
    // the second device's region, so its IOVAs may be handed out, and mapping them is the hazard.
    const l = lab({ group: 'g' });
    const first = dma_map_single(l.dev, l.buf, 0x1000, DMA_BIDIRECTIONAL);
    expect(first).toBe(0xffff_f000);
    const late = iommu_probe_device(l.m, 'nic1', l.smmu, {
      resv: [{ start: 0xffff_c000, length: 0x4000, prot: 0, type: IOMMU_RESV_RESERVED }],
      group: 'g',
      bus: 'pci',
      trusted: true,
      default_domain: null,
    });
    expect(late.group).toBe(l.dev.group);
    expect(dma_map_single(late, l.buf, 0x1000, DMA_BIDIRECTIONAL)).toBe(0xffff_e000);
    expect(checkIds(l.m)).toContain('map-overlaps-reserved');
    // The first device's IOVA is still its own: unmapping it is clean and frees it for reuse.
    dma_unmap_single(l.dev, first, 0x1000, DMA_BIDIRECTIONAL);
    expect(checkIds(l.m)).not.toContain('iova-not-from-allocator');
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_BIDIRECTIONAL)).toBe(first);
  });

  it('never hands out IOVA 0: once 4 GiB is full a PCI device moves above it for good', () => {
    const l = lab();
    const pa = 0x2_0000_0000;
    const got: number[] = [];
    for (let size = 0x8000_0000; size >= 0x1000; size /= 2)
      got.push(dma_map_single(l.dev, pa, size, DMA_TO_DEVICE));
    // 2G at 2G, 1G at 1G, … 4K at 4K: everything below 4 GiB but page 0
    expect(got[0]).toBe(0x8000_0000);
    expect(got[got.length - 1]).toBe(0x1000);
    expect(dev_dma_state(l.dev).pci_32bit_workaround).toBe(true);
    // the next one cannot use page 0: it goes to the top of the 48-bit aperture instead
    expect(dma_map_single(l.dev, pa, 0x1000, DMA_TO_DEVICE)).toBe(2 ** 48 - 0x1000);
    expect(dev_dma_state(l.dev).pci_32bit_workaround).toBe(false);
    expect(dma_map_single(l.dev, pa, 0x1000, DMA_TO_DEVICE)).toBe(2 ** 48 - 0x2000);
  });

  it('a platform device takes IOVAs from the top of the aperture straight away', () => {
    const l = lab({ bus: 'platform' });
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE)).toBe(2 ** 48 - 0x1000);
  });

  it("allocates IOVAs below the device's DMA mask (dma_set_mask_and_coherent), coherent ones too", () => {
    const l = lab({ bus: 'platform' });
    expect(dma_set_mask_and_coherent(l.dev, DMA_BIT_MASK(32))).toBe(0);
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE)).toBe(0xffff_f000);
    expect(dma_alloc_coherent(l.dev, 0x1000)?.dma_handle).toBe(0xffff_e000);
    expect(dma_set_mask_and_coherent(l.dev, DMA_BIT_MASK(40))).toBe(0);
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE)).toBe(2 ** 40 - 0x1000);
  });

  it('maps with the direction as prot: a device cannot write a DMA_TO_DEVICE buffer', () => {
    const l = lab();
    const to = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    const from = dma_map_single(l.dev, l.buf + 0x1000, 0x1000, DMA_FROM_DEVICE);
    expect(read(l, to).ok).toBe(true);
    expect(device_dma(l.dev, to, 4, true, new Uint8Array(4)).ok).toBe(false);
    expect(device_dma(l.dev, from, 4, true, new Uint8Array([1, 2, 3, 4])).ok).toBe(true);
    expect([...l.m.mem.read(l.buf + 0x1000, 4)]).toEqual([1, 2, 3, 4]);
  });
});

describe('strict unmap (DMA domain)', () => {
  it('invalidates the IOTLB before returning: the next device access faults', () => {
    const l = lab();
    const iova = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    expect(read(l, iova)).toMatchObject({ ok: true, tlb: 'miss' });
    expect(read(l, iova)).toMatchObject({ ok: true, tlb: 'hit' });
    dma_unmap_single(l.dev, iova, 0x1000, DMA_TO_DEVICE);
    expect(read(l, iova).ok).toBe(false);
    expect(checkIds(l.m)).not.toContain('stale-iotlb-hit');
    // freed at once: the next mapping of that size gets it back
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE)).toBe(iova);
  });
});

describe('lazy unmap (DMA-FQ domain)', () => {
  it('lets a stale IOTLB hit through until the 256th unmap flushes, and never reuses the IOVA before', () => {
    const l = lab({ default_domain: 'dma-fq' });
    expect(l.domain.type).toBe(IOMMU_DOMAIN_DMA_FQ);
    l.m.mem.write(l.buf, [0xde, 0xad, 0xbe, 0xef]);
    const a = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    expect(read(l, a).ok).toBe(true);
    dma_unmap_single(l.dev, a, 0x1000, DMA_TO_DEVICE);
    expect(iommu_iova_to_phys(l.domain, a)).toBe(0);
    const stale = read(l, a);
    expect(stale).toMatchObject({ ok: true, tlb: 'stale' });
    expect(checkIds(l.m)).toContain('stale-iotlb-hit');
    expect(checkIds(l.m)).not.toContain('unmap-without-sync');

    const seen = new Set<number>([a]);
    // 254 more unmaps: 255 entries fill the 256-slot ring (one slot stays empty)
    for (let i = 0; i < 254; i++) {
      const x = dma_map_single(l.dev, l.buf + 0x1000, 0x1000, DMA_TO_DEVICE);
      expect(seen.has(x)).toBe(false);
      seen.add(x);
      dma_unmap_single(l.dev, x, 0x1000, DMA_TO_DEVICE);
    }
    expect(dma_fq_length(l.domain)).toBe(255);
    expect(read(l, a)).toMatchObject({ ok: true, tlb: 'stale' });

    const last = dma_map_single(l.dev, l.buf + 0x1000, 0x1000, DMA_TO_DEVICE);
    expect(seen.has(last)).toBe(false);
    dma_unmap_single(l.dev, last, 0x1000, DMA_TO_DEVICE); // the 256th: the ring is full, flush
    expect(read(l, a).ok).toBe(false);
    expect(dma_fq_length(l.domain)).toBe(1);
    // the flushed IOVAs are free again now
    expect(seen.has(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE))).toBe(true);
  });

  it('flushes 10 ms after the first queued unmap, and only then frees the IOVA', () => {
    const l = lab({ default_domain: 'dma-fq' });
    const a = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    read(l, a);
    dma_unmap_single(l.dev, a, 0x1000, DMA_TO_DEVICE);
    const b = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    expect(b).not.toBe(a);
    l.m.advance_time(9);
    expect(read(l, a)).toMatchObject({ ok: true, tlb: 'stale' });
    l.m.advance_time(1);
    expect(read(l, a).ok).toBe(false);
    expect(dma_fq_length(l.domain)).toBe(0);
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE)).toBe(a);
    // the timer is armed again by the next enqueue
    dma_unmap_single(l.dev, b, 0x1000, DMA_TO_DEVICE);
    expect(l.m.timers).toHaveLength(1);
    expect(l.m.timers[0].due_ms).toBe(20);
  });

  it('uses one 32768-entry queue and a 1 s timer when the device asks for shadow_on_flush', () => {
    const l = lab({ default_domain: 'dma-fq' });
    l.dev.shadow_on_flush = true;
    const a = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    read(l, a);
    dma_unmap_single(l.dev, a, 0x1000, DMA_TO_DEVICE);
    for (let i = 0; i < 300; i++)
      dma_unmap_single(l.dev, dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE), 0x1000, DMA_TO_DEVICE);
    l.m.advance_time(999);
    expect(read(l, a)).toMatchObject({ ok: true, tlb: 'stale' });
    expect(dma_fq_length(l.domain)).toBe(301);
    l.m.advance_time(1);
    expect(read(l, a).ok).toBe(false);
  });
});

describe('time travel', () => {
  it('the allocator, flush queue and timer are plain state: a clone goes on exactly like the original', () => {
    const l = lab({ default_domain: 'dma-fq' });
    const a = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    read(l, a);
    dma_unmap_single(l.dev, a, 0x1000, DMA_TO_DEVICE);
    const copy = deepClone(l.m);
    const cdev = copy.devices[0];
    const cdom = cdev.group!.domain!;
    copy.advance_time(10);
    // the clone flushed and reuses the IOVA; the original still waits
    expect(device_dma(cdev, a, 4, false).ok).toBe(false);
    expect(dma_map_single(cdev, l.buf, 0x1000, DMA_TO_DEVICE)).toBe(a);
    expect(dma_fq_length(cdom)).toBe(0);
    expect(dma_fq_length(l.domain)).toBe(1);
    expect(read(l, a)).toMatchObject({ ok: true, tlb: 'stale' });
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE)).not.toBe(a);
  });
});

describe('dma_map_sg', () => {
  it('maps the whole list into one IOVA range and merges page-aligned entries into one segment', () => {
    const l = lab();
    const pages = [l.buf + 0x3000, l.buf, l.buf + 0x8000];
    pages.forEach((pa, i) => l.m.mem.write(pa, [i + 1]));
    const sg: DmaSgEntry[] = pages.map((paddr) => ({ paddr, length: 0x1000 }));
    expect(dma_map_sg(l.dev, sg, DMA_TO_DEVICE)).toBe(1);
    const base = sg[0].dma_address!;
    expect(base).toBe(0xffff_c000); // 3 pages round to 4
    expect(sg[0].dma_length).toBe(0x3000);
    expect(sg[1]).toMatchObject({ dma_address: DMA_MAPPING_ERROR, dma_length: 0 });
    for (let i = 0; i < 3; i++)
      expect(read(l, base + i * 0x1000, 1)).toMatchObject({
        ok: true,
        pa: pages[i],
        data: new Uint8Array([i + 1]),
      });
    dma_unmap_sg(l.dev, sg, DMA_TO_DEVICE);
    expect(read(l, base + 0x2000).ok).toBe(false);
    expect(l.m.checks).toEqual([]);
  });

  it('an entry longer than the maximum segment takes the next one with it (__finalise_sg: unsigned wrap)', () => {
    const l = lab();
    const sg: DmaSgEntry[] = [
      { paddr: l.buf, length: 0x2_0000 }, // twice the default 64 KiB maximum segment
      { paddr: l.buf + 0x2_0000, length: 0x1000 },
    ];
    expect(dma_map_sg(l.dev, sg, DMA_TO_DEVICE)).toBe(1);
    expect(sg[0].dma_length).toBe(0x2_1000);
    expect(sg[1]).toMatchObject({ dma_address: DMA_MAPPING_ERROR, dma_length: 0 });
  });

  it('a list that fails to map says so in every entry: DMA_MAPPING_ERROR, length 0 (__invalidate_sg)', () => {
    const l = lab();
    const sg: DmaSgEntry[] = [
      { paddr: l.buf, length: 0x1000 },
      { paddr: l.buf + 0x2000, length: 0x1000 },
    ];
    l.m.mem.fail_nth_alloc(1); // the first page table iommu_map_sg needs
    expect(dma_map_sg(l.dev, sg, DMA_TO_DEVICE)).toBe(0);
    expect(sg).toEqual([
      { paddr: l.buf, length: 0x1000, dma_address: DMA_MAPPING_ERROR, dma_length: 0 },
      { paddr: l.buf + 0x2000, length: 0x1000, dma_address: DMA_MAPPING_ERROR, dma_length: 0 },
    ]);
    expect(iommu_iova_to_phys(l.domain, 0xffff_e000)).toBe(0);
  });

  it('starts a new segment at an entry that does not begin on a granule', () => {
    const l = lab();
    const sg: DmaSgEntry[] = [
      { paddr: l.buf, length: 0x1000 },
      { paddr: l.buf + 0x2100, length: 0x100 },
    ];
    expect(dma_map_sg(l.dev, sg, DMA_BIDIRECTIONAL)).toBe(2);
    expect(sg[1].dma_address).toBe(sg[0].dma_address! + 0x1100);
    expect(iommu_iova_to_phys(l.domain, sg[1].dma_address!)).toBe(l.buf + 0x2100);
  });

  it('a list of empty entries takes no IOVA and maps nothing (iommu_dma_map_sg: !iova_len)', () => {
    const l = lab();
    const sg: DmaSgEntry[] = [{ paddr: l.buf, length: 0 }];
    expect(dma_map_sg(l.dev, sg, DMA_TO_DEVICE)).toBe(1);
    expect(sg[0]).toMatchObject({ dma_address: 0, dma_length: 0 });
    expect(dma_iova_ranges(l.domain)).toEqual([]);
    // The next mapping gets the first IOVA, as if the empty list had never been.
    expect(dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE)).toBe(0xffff_f000);
  });

  it('dma-direct: every entry at its physical address', () => {
    const l = lab({ default_domain: 'identity' });
    const sg: DmaSgEntry[] = [
      { paddr: l.buf, length: 0x1000 },
      { paddr: l.buf + 0x5000, length: 0x800 },
    ];
    expect(dma_map_sg(l.dev, sg, DMA_TO_DEVICE)).toBe(2);
    expect(sg.map((s) => s.dma_address)).toEqual([l.buf, l.buf + 0x5000]);
  });
});

describe('dma_alloc_coherent', () => {
  it('gives zeroed RAM that the device reads and writes at the DMA handle, and frees both', () => {
    const l = lab();
    const r = dma_alloc_coherent(l.dev, 0x1800)!;
    expect(r).not.toBeNull();
    expect(l.m.mem.is_allocated(r.cpu_addr)).toBe(true);
    expect(r.dma_handle).toBe(0xffff_e000); // two pages
    l.m.mem.write(r.cpu_addr + 0x1000, [7, 8, 9]);
    expect(device_dma(l.dev, r.dma_handle + 0x1000, 3, false)).toMatchObject({
      ok: true,
      data: new Uint8Array([7, 8, 9]),
    });
    expect(device_dma(l.dev, r.dma_handle, 2, true, new Uint8Array([5, 6])).ok).toBe(true);
    expect([...l.m.mem.read(r.cpu_addr, 2)]).toEqual([5, 6]);
    dma_free_coherent(l.dev, 0x1800, r.cpu_addr, r.dma_handle);
    expect(l.m.mem.is_allocated(r.cpu_addr)).toBe(false);
    expect(read(l, r.dma_handle).ok).toBe(false);
    expect(l.m.checks).toEqual([]);
  });
});

describe('which DMA ops serve the device', () => {
  it('identity: dma-direct, the DMA address is the physical address', () => {
    const l = lab({ default_domain: 'identity' });
    expect(dma_map_single(l.dev, l.buf + 0x10, 0x100, DMA_TO_DEVICE)).toBe(l.buf + 0x10);
    expect(dma_map_single(l.dev, l.buf + 0x20, 0, DMA_TO_DEVICE)).toBe(l.buf + 0x20); // no size check
    expect(dma_alloc_coherent(l.dev, 0x1000)).toMatchObject({ dma_handle: expect.any(Number) });
    expect(dma_iova_ranges(l.domain)).toEqual([]);
  });

  it('identity: a buffer beyond the DMA mask fails (no swiotlb for direct DMA); coherent RAM comes from below it', () => {
    const l = lab({ default_domain: 'identity' });
    expect(dma_set_mask_and_coherent(l.dev, DMA_BIT_MASK(20))).toBe(-EIO); // under ZONE_DMA's 24 bits
    expect(dma_set_mask_and_coherent(l.dev, DMA_BIT_MASK(32))).toBe(0);
    expect(dma_map_single(l.dev, 0x1_0000_0000, 0x1000, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(dma_map_single(l.dev, 0xffff_f000, 0x2000, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR); // ends past it
    const sg: DmaSgEntry[] = [
      { paddr: l.buf, length: 0x1000 },
      { paddr: 0x1_0000_0000, length: 0x1000 },
    ];
    expect(dma_map_sg(l.dev, sg, DMA_TO_DEVICE)).toBe(0);
    // Simulated RAM starts at 1 GiB: a 30-bit device finds no coherent memory it reaches.
    expect(dma_set_mask_and_coherent(l.dev, DMA_BIT_MASK(30))).toBe(0);
    expect(dma_alloc_coherent(l.dev, 0x1000)).toBeNull();
  });

  it('an UNMANAGED domain attached by its driver: iommu-dma still maps into the default domain, and the device faults there', () => {
    const l = lab();
    const d = iommu_paging_domain_alloc(l.dev) as IommuDomain;
    expect(iommu_attach_device(d, l.dev)).toBe(0);
    const handle = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    expect(handle).not.toBe(DMA_MAPPING_ERROR);
    expect(dma_iova_ranges(l.domain)).toHaveLength(1); // the default domain, not the attached one
    expect(read(l, handle)).toMatchObject({ ok: false, fault: { reason: 'translation' } });
  });

  it('blocked (VFIO claimed the group): the address is handed out, and the device is blocked', () => {
    const l = lab();
    expect(iommu_device_claim_dma_owner(l.dev, 'vfio')).toBe(0);
    expect(l.dev.group!.domain!.type).toBe(IOMMU_DOMAIN_BLOCKED);
    const handle = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    expect(handle).not.toBe(DMA_MAPPING_ERROR);
    expect(read(l, handle).ok).toBe(false);
  });

  it('a 64K-granule domain: init_iova_domain BUG_ONs (granule > PAGE_SIZE); said once, every map fails', () => {
    const l = lab({ smmu: { granule: 0x10000 } });
    expect(dma_map_single(l.dev, l.buf, 0x100, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(dma_map_single(l.dev, l.buf, 0x10000, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(l.m.checks.filter((c) => c.id === 'kernel-oops').map((c) => c.message)).toEqual([
      `init_iova_domain BUG_ON: domain ${l.domain.id}'s IOVA granule (0x10000, its smallest page size) is larger than the CPU page (0x1000), so the DMA API cannot use it`,
    ]);
  });

  it('rejects a direction Linux would BUG on', () => {
    const l = lab();
    expect(() => dma_map_single(l.dev, l.buf, 0x1000, 3)).toThrow(RangeError);
  });
});

describe('unmap checks', () => {
  it('dma-unmap-mismatch for an address that was never mapped, and for a wrong size', () => {
    const l = lab();
    dma_unmap_single(l.dev, 0x1234_5000, 0x1000, DMA_TO_DEVICE);
    expect(l.m.checks.find((c) => c.id === 'dma-unmap-mismatch')?.message).toBe(
      'dma_unmap_single of 0x12345000, size 0x1000, for nic0: nic0 has no DMA mapping at 0x12345000',
    );
    // dma_free_coherent takes (dev, size, cpu_addr, dma_handle): the message names, it does not mimic.
    dma_free_coherent(l.dev, 0x1000, l.buf, 0xfff0_0000);
    expect(l.m.checks.filter((c) => c.id === 'dma-unmap-mismatch').at(-1)?.message).toBe(
      'dma_free_coherent of 0xfff00000, size 0x1000, for nic0: nic0 has no DMA mapping at 0xfff00000',
    );
    const l2 = lab();
    const iova = dma_map_single(l2.dev, l2.buf, 0x2000, DMA_TO_DEVICE);
    dma_unmap_single(l2.dev, iova, 0x1000, DMA_TO_DEVICE);
    expect(l2.m.checks.find((c) => c.id === 'dma-unmap-mismatch')?.message).toMatch(/mapped it|size 0x2000/);
  });

  it('dma-unmap-mismatch for an unmap in another direction than the map (dma-debug), and none when they agree', () => {
    const l = lab();
    const a = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    dma_unmap_single(l.dev, a, 0x1000, DMA_TO_DEVICE);
    expect(checkIds(l.m)).not.toContain('dma-unmap-mismatch');
    const b = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    dma_unmap_single(l.dev, b, 0x1000, DMA_BIDIRECTIONAL);
    expect(l.m.checks.find((c) => c.id === 'dma-unmap-mismatch')?.message).toMatch(
      /it was mapped DMA_TO_DEVICE, unmapped DMA_BIDIRECTIONAL/,
    );
  });

  it('a second dma_unmap_single of a handle: dma-unmap-mismatch, and nothing reaches the driver (WARN_ON(!phys))', () => {
    const l = lab();
    const iova = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    dma_unmap_single(l.dev, iova, 0x1000, DMA_TO_DEVICE);
    const mark = l.m.trace.length;
    dma_unmap_single(l.dev, iova, 0x1000, DMA_TO_DEVICE);
    const after = Array.from({ length: l.m.trace.length - mark }, (_, i) => l.m.trace.event(mark + i).name);
    expect(after).not.toContain('unmap');
    expect(checkIds(l.m)).toEqual(['dma-unmap-mismatch']);
    const x = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    const y = dma_map_single(l.dev, l.buf, 0x1000, DMA_TO_DEVICE);
    expect(x).toBe(iova);
    expect(y).not.toBe(iova);
  });

  it('a second dma_free_coherent goes on to the driver and the allocator: iova-not-from-allocator', () => {
    const l = lab();
    const r = dma_alloc_coherent(l.dev, 0x1000)!;
    dma_free_coherent(l.dev, 0x1000, r.cpu_addr, r.dma_handle);
    dma_free_coherent(l.dev, 0x1000, r.cpu_addr, r.dma_handle);
    expect(checkIds(l.m)).toEqual(expect.arrayContaining(['dma-unmap-mismatch', 'iova-not-from-allocator']));
  });
});
