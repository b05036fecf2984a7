/**
 * A map outside the aperture — IOMMU-FACTS §1.3, §2.5, scenario idea 5. For the matrix.
 *
 * The core never checks the aperture: it is the caller's business, and drivers answer as their
 * tables can. io-pgtable-arm refuses an IOVA beyond its input size (-ERANGE); s390 checks its DMA
 * window (-EINVAL). The lab raises `out-of-aperture-map` whatever the driver answers. virtio's guest
 * accepts the map into its tree; the host rejects it (RANGE): before v6.8 the synchronous MAP made
 * iommu_map fail, from v6.8 the queued MAP's status is never read, so the guest believes a mapping
 * the host does not have — and the device faults.
 */
import {
  lab,
  iommu_paging_domain_alloc,
  iommu_domain_alloc,
  iommu_attach_device,
  iommu_map,
  IS_ERR,
  IOMMU_READ,
  IOMMU_WRITE,
  EINVAL,
  ERANGE,
  SZ_4K,
  expect,
} from 'iommu-lab';

const driver = lab.params.driver ?? 'arm-smmu-v3';
const kernel = lab.kernel();
const platform = driver === 'omap-iommu' || driver === 'tegra-gart';
// virtio: a 48-bit input range, as an emulated 48-bit IOMMU reports it, and a host that checks
// MAPs against it as the spec says (QEMU does not: spec_checks turns the checks on).
const options =
  driver === 'virtio-iommu' ? { input_range: [0, 2 ** 48 - 1] as [number, number], spec_checks: true } : {};
const iommu = lab.add_iommu('iommu0', driver, options);
const dev = lab.add_device('dev0', { iommu, bus: platform ? 'platform' : 'pci' });
const domain =
  kernel === 'v6.16'
    ? iommu_paging_domain_alloc(dev)
    : iommu_domain_alloc(lab.bus(platform ? 'platform' : 'pci'));
if (!domain || IS_ERR(domain)) throw new Error(`${driver} gave no paging domain`);
expect(iommu_attach_device(domain, dev)).toBe(0);

const end = domain.geometry.aperture_end;
// The largest IOVA a caller can name: omap and gart are 32-bit Arm, where iova is an unsigned long.
const last = platform ? 2 ** 32 - 1 : Number.MAX_SAFE_INTEGER;
const iova = end >= last - SZ_4K ? 0 : end + 1; // just past the aperture
if (iova === 0) {
  console.log(`${driver}: the aperture covers every IOVA the caller can name; nothing to test`);
} else {
  const pa = lab.mem.alloc(SZ_4K);
  const ret = iommu_map(domain, iova, pa, SZ_4K, IOMMU_READ | IOMMU_WRITE);
  console.log(`${driver} ${kernel}: map at ${'0x' + iova.toString(16)} → ${ret}`);
  const want: Record<string, number> = {
    'arm-smmu-v3': -ERANGE,
    's390-iommu': -EINVAL,
    'virtio-iommu': kernel === 'v6.6' ? -ERANGE : 0,
  };
  if (driver in want) expect(ret).toBe(want[driver]);
  expect(lab.checks().map((c) => c.id)).toContain('out-of-aperture-map');
  if (driver === 'virtio-iommu' && ret === 0) expect(dev.dma_read(iova, 4).ok).toBe(false); // the host never mapped it
}
