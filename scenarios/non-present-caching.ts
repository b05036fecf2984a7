/**
 * Non-present caching — IOMMU-FACTS §7.13 (scenario idea 13), §5.5 "Caching Mode", §5.6, §5.7, §5.1.
 *
 * A device reaches an IOVA before it is mapped; the IOVA is then mapped; the device tries again.
 * Some IOMMUs remember that the entry was not present: QEMU's virtual VT-d with caching mode
 * (CM=1), AMD-Vi with NpCache, s390 under a hypervisor that shadows the guest's tables
 * (tlb_refresh). For them a map has to be followed by a flush, and iommu_map's one
 * iotlb_sync_map per call is where the driver does it: a page-selective invalidation, an
 * INVALIDATE_IOMMU_PAGES, an RPCIT. Calling domain.ops.map_pages directly skips that step: the
 * entry is in the table (iova_to_phys finds it) but the device keeps faulting. virtio-iommu from
 * v6.8 has the same shape for another reason: map_pages only queues the MAP, the sync sends it.
 * Every other driver maps and the DMA works with no sync at all. iommu_map_sg syncs once for the
 * whole list.
 *
 * Written for the matrix (lab.params.driver); alone it runs intel-iommu. Any kernel profile.
 */
import {
  lab,
  iommu_domain_alloc,
  iommu_paging_domain_alloc,
  iommu_attach_device,
  iommu_map,
  iommu_map_sg,
  iommu_iova_to_phys,
  IS_ERR,
  IOMMU_READ,
  IOMMU_WRITE,
  SZ_4K,
  SZ_64K,
  expect,
} from 'iommu-lab';
import type { Device, DriverName, IommuDomain } from 'iommu-lab';

const driver = (lab.params.driver ?? 'intel-iommu') as DriverName;
const kernel = lab.kernel();
const RW = IOMMU_READ | IOMMU_WRITE;

/** The option that makes each driver's IOMMU cache non-present entries. */
const CACHING: Partial<Record<DriverName, object>> = {
  'intel-iommu': { caching_mode: true },
  'amd-iommu': { np_cache: true },
  's390-iommu': { tlb_refresh: true },
};
/** The command each of them issues from iotlb_sync_map. */
const SYNC_COMMAND: Partial<Record<DriverName, string>> = {
  'intel-iommu': 'vtd_inv_desc_iotlb_pages',
  'amd-iommu': 'amdvi_pages_inval',
  's390-iommu': 'zpci_refresh_trans',
};
const caches = driver in CACHING;
/** virtio-iommu v6.8+: map_pages queues the MAP; only iotlb_sync_map sends it to the host. */
const map_waits_for_sync = caches || (driver === 'virtio-iommu' && kernel !== 'v6.6');

const iommu = lab.add_iommu('iommu0', driver, (CACHING[driver] ?? {}) as never);
const platform = driver === 'omap-iommu' || driver === 'tegra-gart';
const dev = lab.add_device('dev0', { iommu, bus: platform ? 'platform' : 'pci' });

/** A new UNMANAGED domain, as each era's callers get one. */
function new_domain(d: Device): IommuDomain {
  const r =
    kernel === 'v6.16'
      ? iommu_paging_domain_alloc(d)
      : iommu_domain_alloc(lab.bus(platform ? 'platform' : 'pci'));
  if (!r || IS_ERR(r)) throw new Error('no domain');
  return r;
}

const domain = new_domain(dev);
expect(iommu_attach_device(domain, dev)).toBe(0);

// IOVAs the device can reach: inside the GART's aperture, inside s390's DMA window, low elsewhere.
const base = driver === 'tegra-gart' ? 0x5800_0000 : driver === 's390-iommu' ? 0x1_0000_0000 : 0;
const IOVA = base + 0x10_0000;
const buf = lab.mem.alloc(16 * SZ_4K);
const negatives = () => iommu.tlb.entries().filter((e) => e.negative).length;
const since = (mark: number, name: string) =>
  lab
    .trace()
    .slice(mark)
    .filter((e) => e.name === name);

// ── 1. a DMA before anything is mapped faults; a caching IOMMU remembers the absence ──
expect(dev.dma_read(IOVA, 16).ok).toBe(false);
expect(negatives() > 0).toBe(caches);

// ── 2. map_pages called directly: in the table, but no iotlb_sync_map ──
if (domain.ops.map_pages) {
  expect(domain.ops.map_pages(domain, IOVA, buf, SZ_4K, 1, RW)).toEqual({ ret: 0, mapped: SZ_4K });
  expect(iommu_iova_to_phys(domain, IOVA)).toBe(buf);
  const r = dev.dma_read(IOVA, 16);
  expect(r.ok).toBe(!map_waits_for_sync);
  console.log(`${driver} ${kernel}: after map_pages alone the DMA ${r.ok ? 'works' : 'still faults'}`);
}

// ── 3. iommu_map: map_pages, then one iotlb_sync_map for the range ──
const IOVA2 = IOVA + SZ_64K;
expect(dev.dma_read(IOVA2, 16).ok).toBe(false);
let mark = lab.trace().length;
expect(iommu_map(domain, IOVA2, buf + SZ_4K, SZ_4K, RW)).toBe(0);
expect(since(mark, 'iotlb_sync_map')).toHaveLength(domain.ops.iotlb_sync_map ? 1 : 0);
const command = SYNC_COMMAND[driver];
if (command) expect(since(mark, command)).toHaveLength(1);
expect(dev.dma_read(IOVA2, 16)).toMatchObject({ ok: true, pa: buf + SZ_4K });

// ── 4. iommu_map_sg: four scattered pages, still one sync, and every page reachable ──
const IOVA3 = IOVA + 2 * SZ_64K;
for (let i = 0; i < 4; i++) expect(dev.dma_read(IOVA3 + i * SZ_4K, 4).ok).toBe(false);
const sg = [0, 1, 2, 3].map((i) => ({ paddr: buf + (4 + 2 * i) * SZ_4K, length: SZ_4K }));
mark = lab.trace().length;
expect(iommu_map_sg(domain, IOVA3, sg, RW)).toBe(4 * SZ_4K);
expect(since(mark, 'iotlb_sync_map')).toHaveLength(domain.ops.iotlb_sync_map ? 1 : 0);
if (command) expect(since(mark, command)).toHaveLength(1);
for (let i = 0; i < 4; i++)
  expect(dev.dma_read(IOVA3 + i * SZ_4K, 4)).toMatchObject({ ok: true, pa: sg[i].paddr });
