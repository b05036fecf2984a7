/**
 * tegra-gart shared state — IOMMU-FACTS §5.3, §6 (a) and (b), scenario idea 18.
 *
 * What: the Tegra20 GART has one table for the whole machine and a domain is only a name for it.
 * A map through domain A goes straight into the hardware, attached or not; detaching A clears
 * nothing; domain B, attached next, sees A's entry through its own iova_to_phys, its device's DMA
 * uses it, and B can unmap it from under A. While A still has a device, attaching B elsewhere is
 * -EINVAL: one domain is active at a time.
 *
 * Why: this is the driver the 2023 thread held up as what a domain must not be (Jason Gunthorpe,
 * Sep 25: mappings vanishing or leaking across the last detach is a driver bug that VFIO and
 * iommufd trip over), and the reason it was removed in v6.7 ("it doesn't implement a SW page table
 * under struct iommu_domain ... doesn't clear the HW of maps once the domain is detached").
 *
 * Kernel: v6.6 only. The script picks v6.6 itself; in a matrix cell whose kernel is fixed to
 * another profile that choice is refused, lab.kernel() stays what the cell says, and add_iommu
 * throws a KernelVersionError ("removed in v6.7"), which makes the cell n/a.
 */
import {
  lab,
  iommu_domain_alloc,
  iommu_attach_device,
  iommu_detach_device,
  iommu_map,
  iommu_unmap,
  iommu_iova_to_phys,
  IOMMU_READ,
  IOMMU_WRITE,
  EINVAL,
  SZ_4K,
  expect,
} from 'iommu-lab';

try {
  lab.kernel('v6.6');
} catch {
  // The matrix fixed this cell's kernel; lab.kernel() says which, and add_iommu decides.
}

const APERTURE = 0x5800_0000; // Tegra20: 32 MiB at 0x58000000
const RW = IOMMU_READ | IOMMU_WRITE;

const gart = lab.add_iommu('gart', 'tegra-gart');
const gr2d = lab.add_device('gr2d', { iommu: gart, bus: 'platform' });
const gr3d = lab.add_device('gr3d', { iommu: gart, bus: 'platform' });
const A = iommu_domain_alloc(lab.bus('platform'));
const B = iommu_domain_alloc(lab.bus('platform'));
if (!A || !B) throw new Error('tegra-gart gave no UNMANAGED domain');

// Invariant (a) holds, for the wrong reason: the map is a register write into the global table.
const buf = lab.mem.alloc(SZ_4K);
lab.mem.write(buf, [0xde, 0xad, 0xbe, 0xef]);
expect(iommu_map(A, APERTURE, buf, SZ_4K, RW)).toBe(0);
expect(gr3d.dma_read(APERTURE, 4)).toMatchObject({ ok: true, pa: buf }); // gr3d is attached to nothing

expect(iommu_attach_device(A, gr2d)).toBe(0);
// One active domain at a time.
expect(iommu_attach_device(B, gr3d)).toBe(-EINVAL);

// Detach clears nothing; B inherits A's entry.
iommu_detach_device(A, gr2d);
expect(iommu_attach_device(B, gr3d)).toBe(0);
expect(iommu_iova_to_phys(B, APERTURE)).toBe(buf);
const read = gr3d.dma_read(APERTURE, 4);
expect(read.ok ? read.data : read.fault).toEqual(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
expect(lab.checks().map((c) => c.id)).toContain('mappings-lost-on-detach');

// B unmaps "its" page; A's mapping is gone too, and A cannot tell.
expect(iommu_unmap(B, APERTURE, SZ_4K)).toBe(SZ_4K);
expect(iommu_iova_to_phys(A, APERTURE)).toBe(0);
expect(gr2d.dma_read(APERTURE, 4).ok).toBe(false);
