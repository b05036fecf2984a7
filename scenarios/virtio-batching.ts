/**
 * virtio-iommu request batching — IOMMU-FACTS §5.1 "The iotlb_sync_map patch", scenario idea 6.
 *
 * The 2023 thread was about this: before v6.8 every map_pages() of the virtio guest driver sent its
 * MAP request and waited for the host (one kick per call), so iommu_map_sg() of 64 scattered pages
 * cost 64 round trips. From v6.8 map_pages() only queues the MAP and iotlb_sync_map() kicks once for
 * the whole list (again whenever the 256-entry queue fills). A domain with no endpoint attached sends
 * nothing at all: its mappings live in the guest's interval tree until an attach replays them —
 * which only v6.16 lets you reach, since older kernels refuse the map before the first attach.
 *
 * Run with --kernel v6.6, v6.8 or v6.16.
 */
import {
  lab,
  iommu_domain_alloc,
  iommu_paging_domain_alloc,
  iommu_attach_device,
  iommu_map_sg,
  iommu_iova_to_phys,
  IS_ERR,
  IOMMU_READ,
  IOMMU_WRITE,
  EINVAL,
  SZ_4K,
  expect,
} from 'iommu-lab';
import type { Device, IommuDomain } from 'iommu-lab';

const kernel = lab.kernel();
const RW = IOMMU_READ | IOMMU_WRITE;
const viommu = lab.add_iommu('viommu0', 'virtio-iommu');
const nic = lab.add_device('nic0', { iommu: viommu });
const host = viommu.host!;

/** A new UNMANAGED domain, as each era's callers get one. */
function new_domain(dev: Device): IommuDomain {
  const d = kernel === 'v6.16' ? iommu_paging_domain_alloc(dev) : iommu_domain_alloc(lab.bus('pci'));
  if (!d || IS_ERR(d)) throw new Error('no domain');
  return d;
}

// 64 pages, none physically next to the one before: 64 runs, 64 map_pages calls.
const buf = lab.mem.alloc(128 * SZ_4K);
const sg = Array.from({ length: 64 }, (_, i) => ({ paddr: buf + 2 * i * SZ_4K, length: SZ_4K }));
const IOVA = 0x10_0000;

// ── attached: every segment becomes a MAP; what differs is how often the driver kicks ──
const domain = new_domain(nic);
expect(iommu_attach_device(domain, nic)).toBe(0);
let mark = host.requests.length;
let kicks = host.kicks;
expect(iommu_map_sg(domain, IOVA, sg, RW)).toBe(64 * SZ_4K);
const maps = host.requests.slice(mark);
expect(maps.filter((r) => r.type === 'MAP' && r.status === 'OK')).toHaveLength(64);
expect(host.kicks - kicks).toBe(kernel === 'v6.6' ? 64 : 1);
console.log(`${kernel}: 64 MAPs in ${host.kicks - kicks} kick(s)`);
expect(nic.dma_read(IOVA + 63 * SZ_4K, 4)).toMatchObject({ ok: true, pa: buf + 126 * SZ_4K });

// ── a domain no device is attached to ──
const detached = new_domain(nic);
mark = host.requests.length;
kicks = host.kicks;
if (kernel === 'v6.16') {
  // Tree nodes only: no request, no kick.
  expect(iommu_map_sg(detached, IOVA, sg, RW)).toBe(64 * SZ_4K);
  expect(iommu_iova_to_phys(detached, IOVA + 10 * SZ_4K)).toBe(buf + 20 * SZ_4K);
} else {
  // Unfinalised until its first attach: map_flags is 0, so the first map_pages fails.
  expect(iommu_map_sg(detached, IOVA, sg, RW)).toBe(-EINVAL);
}
expect(host.requests.length - mark).toBe(0);
expect(host.kicks - kicks).toBe(0);
