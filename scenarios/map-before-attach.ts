/**
 * Map before attach — IOMMU-FACTS §6 invariant (a), scenario idea 1. Written for the matrix.
 *
 * Jason's rule from the 2023 thread: a paging domain must accept an in-aperture, aligned R|W map
 * before any device is attached. Drivers that finalise a domain at its first attach cannot: virtio
 * before v6.16 (-EINVAL: its map flags are still 0), arm-smmu-v3 before v6.9 (-ENODEV: no page
 * table yet). omap still refuses (-EINVAL: its table lives in the attached MMU). tegra-gart accepts,
 * but writes the one global hardware table. After the attach every driver maps, and DMA reaches the page.
 */
import {
  lab,
  iommu_paging_domain_alloc,
  iommu_domain_alloc,
  iommu_attach_device,
  iommu_map,
  iommu_iova_to_phys,
  IS_ERR,
  IOMMU_READ,
  IOMMU_WRITE,
  EINVAL,
  ENODEV,
  SZ_4K,
  expect,
} from 'iommu-lab';
import { iova_window } from './lib/iova-window.ts';

const driver = lab.params.driver ?? 'arm-smmu-v3';
const kernel = lab.kernel();
const platform = driver === 'omap-iommu' || driver === 'tegra-gart';
const iommu = lab.add_iommu('iommu0', driver);
const dev = lab.add_device('dev0', { iommu, bus: platform ? 'platform' : 'pci' });

const domain =
  kernel === 'v6.16'
    ? iommu_paging_domain_alloc(dev)
    : iommu_domain_alloc(lab.bus(platform ? 'platform' : 'pci'));
if (!domain || IS_ERR(domain)) throw new Error(`${driver} gave no paging domain`);

// An IOVA inside every driver's aperture (the GART's is a window at 0x58000000; s390's starts at start_dma).
const iova = iova_window(dev, domain);
const pa = lab.mem.alloc(SZ_4K);
const RW = IOMMU_READ | IOMMU_WRITE;

const expected: Record<string, number> = {
  'arm-smmu-v3': kernel === 'v6.16' ? 0 : -ENODEV,
  'virtio-iommu': kernel === 'v6.16' ? 0 : -EINVAL,
  'omap-iommu': -EINVAL,
};
const before = iommu_map(domain, iova, pa, SZ_4K, RW);
console.log(`${driver} ${kernel}: map before attach → ${before}`);
expect(before).toBe(expected[driver] ?? 0);
if (before === 0) expect(iommu_iova_to_phys(domain, iova)).toBe(pa);
else expect(lab.checks().map((c) => c.id)).toContain('map-before-attach-failed');

expect(iommu_attach_device(domain, dev)).toBe(0);
if (before !== 0) expect(iommu_map(domain, iova, pa, SZ_4K, RW)).toBe(0);
const r = dev.dma_read(iova, 4);
expect(r).toMatchObject({ ok: true, pa });
