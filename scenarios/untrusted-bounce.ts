/**
 * Bounce buffers for untrusted devices — IOMMU-FACTS §4 (drivers/iommu/dma-iommu.c
 * iommu_dma_map_page, kernel/dma/swiotlb.c).
 *
 * An IOMMU maps whole pages (granules), so dma_map_single of a 256-byte buffer opens the whole 4 KiB
 * page around it to the device: whatever else the kernel keeps there. For a device Linux does not
 * trust (a PCI device behind an external port: Thunderbolt, USB4), dma-iommu copies such a buffer
 * into a swiotlb bounce buffer of whole pages, zeroes what is not the buffer, and maps that; the
 * unmap copies back what the device wrote. Here the same buffer is mapped by a trusted NIC, which
 * reads its neighbour's bytes, and by an untrusted Thunderbolt device, which reads zeros and whose
 * write past the end never reaches the neighbour.
 *
 * The era shows in a DMA_FROM_DEVICE mapping that the device reads before writing: until v6.10
 * dma-iommu zeroed the whole bounce buffer (zeros), from v6.10 only its padding (the buffer's own
 * bytes, which swiotlb copied in). Run it with `--kernel v6.6` to see the other side.
 */
import {
  lab,
  dma_map_single,
  dma_unmap_single,
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  SZ_4K,
  expect,
  type Device,
} from 'iommu-lab';

/** What a device read: its bytes, or the fault when the IOMMU stopped it. */
const read = (dev: Device, iova: number, length: number) => {
  const r = dev.dma_read(iova, length);
  return r.ok ? r.data : r.fault;
};

const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
const nic = lab.add_device('nic0', { iommu: smmu });
const tbt = lab.add_device('tbt0', { iommu: smmu, trusted: false });

// One page: a 256-byte buffer at 0x100, and a neighbour's secret right after it.
const page = lab.mem.alloc(SZ_4K);
const buf = page + 0x100;
lab.mem.write(buf, new Array(0x100).fill(0x11));
lab.mem.write(buf + 0x100, [0x5e, 0xc2, 0xe7, 0x00]);

// The trusted NIC's mapping is the page itself: it reads the neighbour.
const n = dma_map_single(nic, buf, 0x100, DMA_BIDIRECTIONAL);
expect(read(nic, n + 0x100, 4)).toEqual(new Uint8Array([0x5e, 0xc2, 0xe7, 0x00]));
dma_unmap_single(nic, n, 0x100, DMA_BIDIRECTIONAL);

// The untrusted device gets a bounce buffer: the buffer's bytes, then zeros to the end of the page.
const t = dma_map_single(tbt, buf, 0x100, DMA_BIDIRECTIONAL);
expect(lab.trace().filter((e) => e.name === 'swiotlb_bounced')).toHaveLength(1);
expect(read(tbt, t, 2)).toEqual(new Uint8Array([0x11, 0x11]));
expect(read(tbt, t + 0x100, 4)).toEqual(new Uint8Array(4));
expect(tbt.dma_read(t + 0x100, 4)).not.toMatchObject({ pa: buf + 0x100 });

// It writes across the end of its buffer: at unmap the two bytes inside come back, the two outside
// stay in the bounce buffer, and the neighbour is as it was.
expect(tbt.dma_write(t + 0xfe, [1, 2, 3, 4]).ok).toBe(true);
dma_unmap_single(tbt, t, 0x100, DMA_BIDIRECTIONAL);
expect(lab.mem.read(buf + 0xfe, 6)).toEqual(new Uint8Array([1, 2, 0x5e, 0xc2, 0xe7, 0x00]));

// DMA_FROM_DEVICE: the device may only write, so look at the bounce buffer it was handed (the
// swiotlb pool, found through the trace). Until v6.10 it holds zeros; from v6.10 the buffer's bytes.
const f = dma_map_single(tbt, buf, 0x100, DMA_FROM_DEVICE);
const slots = lab.trace().filter((e) => e.name === 'swiotlb_find_slots');
const bounce = slots[slots.length - 1].tlb_addr as number;
expect(bounce % SZ_4K).toBe(f % SZ_4K);
const before = lab.kernel() === 'v6.16' ? 0x11 : 0x00;
expect(lab.mem.read(bounce, 2)).toEqual(new Uint8Array([before, before]));
// A partial write: the rest of the buffer comes back from the bounce buffer as it was there.
tbt.dma_write(f, [7]);
dma_unmap_single(tbt, f, 0x100, DMA_FROM_DEVICE);
expect(lab.mem.read(buf, 2)).toEqual(new Uint8Array([7, before]));
