/**
 * Mappings survive the last detach — IOMMU-FACTS §6 invariant (b), scenario idea 2. For the matrix.
 *
 * A domain is the IO page-table storage and must keep its mappings while no device is attached.
 * Most drivers do. The virtio host destroys the domain when its last endpoint leaves, but the guest
 * keeps its mapping tree and replays it (ATTACH, then one MAP per mapping) at the next attach, so
 * DMA works again. omap frees the table with the detach: every mapping is lost and DMA faults.
 */
import {
  lab,
  iommu_paging_domain_alloc,
  iommu_domain_alloc,
  iommu_attach_device,
  iommu_detach_device,
  iommu_map,
  iommu_iova_to_phys,
  IS_ERR,
  IOMMU_READ,
  IOMMU_WRITE,
  SZ_4K,
  expect,
} from 'iommu-lab';
import { iova_window } from './lib/iova-window.ts';

const driver = lab.params.driver ?? 'virtio-iommu';
const kernel = lab.kernel();
const platform = driver === 'omap-iommu' || driver === 'tegra-gart';
const iommu = lab.add_iommu('iommu0', driver);
const dev = lab.add_device('dev0', { iommu, bus: platform ? 'platform' : 'pci' });
const domain =
  kernel === 'v6.16'
    ? iommu_paging_domain_alloc(dev)
    : iommu_domain_alloc(lab.bus(platform ? 'platform' : 'pci'));
if (!domain || IS_ERR(domain)) throw new Error(`${driver} gave no paging domain`);

expect(iommu_attach_device(domain, dev)).toBe(0);
const base = iova_window(dev, domain);
const buf = lab.mem.alloc(16 * SZ_4K);
for (let i = 0; i < 16; i++)
  expect(iommu_map(domain, base + i * SZ_4K, buf + i * SZ_4K, SZ_4K, IOMMU_READ | IOMMU_WRITE)).toBe(0);
expect(dev.dma_read(base, 4).ok).toBe(true);

iommu_detach_device(domain, dev);
const before = iommu.host?.requests.length ?? 0;
expect(iommu_attach_device(domain, dev)).toBe(0);

const lost = driver === 'omap-iommu';
expect(iommu_iova_to_phys(domain, base + 5 * SZ_4K)).toBe(lost ? 0 : buf + 5 * SZ_4K);
expect(dev.dma_read(base + 5 * SZ_4K, 4).ok).toBe(!lost);
if (lost) expect(lab.checks().map((c) => c.id)).toContain('mappings-lost-on-detach');
if (iommu.host) {
  // The host forgot the domain: the guest sends ATTACH and replays every mapping.
  const replay = iommu.host.requests.slice(before).map((r) => r.type);
  expect(replay.filter((t) => t === 'ATTACH')).toHaveLength(1);
  expect(replay.filter((t) => t === 'MAP')).toHaveLength(16);
}
