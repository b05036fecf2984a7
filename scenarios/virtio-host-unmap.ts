/**
 * The virtio-iommu host's UNMAP rules — IOMMU-FACTS §5.1 ("UNMAP", "QEMU host"), scenario idea 17.
 *
 * The spec lets UNMAP remove only whole mappings: a range covering two MAPs removes both, a range
 * that would split one MAP gets RANGE. QEMU removes covered mappings one by one and stops with RANGE
 * at the first it would split, keeping what it already removed; an overlapping MAP gets INVAL.
 *
 * The Linux guest is built never to ask for a split: its tree has one node per MAP, and an unmap
 * starting at a node removes (and UNMAPs) the whole node. So the guest sees the host's RANGE only
 * once the two disagree, and from v6.8 they can: map_pages queues the MAP and iotlb_sync_map reads no
 * status, so an overlapping map "succeeds" in the guest while the host refused it (INVAL). Before
 * v6.8 that map fails with -EINVAL — and its rollback removes every node starting at that IOVA, the
 * first mapping's too, which the host keeps.
 *
 * The raw cases the guest cannot send (an UNMAP on an empty domain: OK) are in
 * engine/drivers/virtio-iommu/host.test.ts.
 *
 * Run with --kernel v6.6, v6.8 or v6.16.
 */
import {
  lab,
  iommu_domain_alloc,
  iommu_paging_domain_alloc,
  iommu_attach_device,
  iommu_map,
  iommu_unmap,
  iommu_iova_to_phys,
  IS_ERR,
  IOMMU_READ,
  IOMMU_WRITE,
  EINVAL,
  SZ_4K,
  expect,
} from 'iommu-lab';
import type { IommuDomain } from 'iommu-lab';

const kernel = lab.kernel();
const RW = IOMMU_READ | IOMMU_WRITE;
const viommu = lab.add_iommu('viommu0', 'virtio-iommu');
const nic = lab.add_device('nic0', { iommu: viommu });
const host = viommu.host!;
const pa = lab.mem.alloc(32 * SZ_4K);

const domain: IommuDomain | null =
  kernel === 'v6.16' ? (iommu_paging_domain_alloc(nic) as IommuDomain) : iommu_domain_alloc(lab.bus('pci'));
if (!domain || IS_ERR(domain)) throw new Error('no domain');
expect(iommu_attach_device(domain, nic)).toBe(0);
const ops = domain.ops;
/** What the host answered since `mark`. */
const answers = (mark: number) => host.requests.slice(mark).map((r) => `${r.type} ${r.status}`);
/** One MAP of `pages` pages at page `first` (map_pages straight from the driver, then the sync v6.8 needs). */
function map_one(first: number, pages: number, phys = pa): void {
  expect(ops.map_pages!(domain!, first * SZ_4K, phys, SZ_4K, pages, RW)).toEqual({
    ret: 0,
    mapped: pages * SZ_4K,
  });
  ops.iotlb_sync_map?.(domain!, first * SZ_4K, pages * SZ_4K);
}

// ── map(0,4) + map(5,9), unmap(0,9): one UNMAP over both, OK, both gone (pages here) ──
map_one(0, 5);
map_one(5, 5, pa + 5 * SZ_4K);
let mark = host.requests.length;
expect(iommu_unmap(domain, 0, 10 * SZ_4K)).toBe(10 * SZ_4K);
expect(host.requests.slice(mark)).toMatchObject([
  { type: 'UNMAP', virt_start: 0, virt_end: 10 * SZ_4K - 1, status: 'OK' },
]);
expect(nic.dma_read(7 * SZ_4K, 4).ok).toBe(false);

// ── map(0,9), unmap(0,4): the guest never splits — it removes the whole MAP and says so ──
map_one(0, 10);
mark = host.requests.length;
expect(iommu_unmap(domain, 0, 5 * SZ_4K)).toBe(10 * SZ_4K);
expect(host.requests.slice(mark)).toMatchObject([
  { type: 'UNMAP', virt_start: 0, virt_end: 10 * SZ_4K - 1, status: 'OK' },
]);
// Starting inside a mapping instead: nothing removed, nothing sent, 0 returned.
map_one(0, 10);
mark = host.requests.length;
expect(iommu_unmap(domain, 5 * SZ_4K, 5 * SZ_4K)).toBe(0);
expect(host.requests.length).toBe(mark);
expect(iommu_unmap(domain, 0, 10 * SZ_4K)).toBe(10 * SZ_4K);

// ── an overlapping re-MAP: the host answers INVAL ──
const IOVA = 0x10_0000;
expect(iommu_map(domain, IOVA, pa, SZ_4K, RW)).toBe(0);
mark = host.requests.length;
const again = iommu_map(domain, IOVA, pa + SZ_4K, SZ_4K, RW);
expect(answers(mark)).toEqual(['MAP INVAL']);
if (kernel === 'v6.6') {
  expect(again).toBe(-EINVAL);
  // The rollback took the first node too: the guest forgot a mapping the host still translates.
  expect(iommu_iova_to_phys(domain, IOVA)).toBe(0);
  expect(nic.dma_read(IOVA, 4)).toMatchObject({ ok: true, pa });
} else {
  // The status was never read: success in the guest, two nodes where the host has one.
  expect(again).toBe(0);

  // ── now the guest can ask for a split: RANGE, and nothing removed ──
  // Host: [5, 9]. The guest also believes in [0, 5], which the host refused (it overlaps [5, 9]).
  map_one(5, 5, pa + 16 * SZ_4K);
  mark = host.requests.length;
  map_one(0, 6);
  expect(answers(mark)).toEqual(['MAP INVAL']);
  mark = host.requests.length;
  // The guest removes its node [0, 5] and sends UNMAP [0, 5], which would cut the host's [5, 9] in two.
  expect(iommu_unmap(domain, 0, 6 * SZ_4K)).toBe(6 * SZ_4K);
  expect(host.requests.slice(mark)).toMatchObject([
    { type: 'UNMAP', virt_start: 0, virt_end: 6 * SZ_4K - 1, status: 'RANGE' },
  ]);
  expect(nic.dma_read(5 * SZ_4K, 4)).toMatchObject({ ok: true, pa: pa + 16 * SZ_4K });
}
