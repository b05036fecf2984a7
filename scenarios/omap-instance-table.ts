/**
 * omap-iommu: the page table belongs to the MMU — IOMMU-FACTS §5.2, §6 (a) and (b), scenario
 * ideas 1 and 2.
 *
 * What: an omap domain holds no table. attach allocates one L1 table per MMU the client uses and
 * points the MMU at it; map and unmap go through the attached MMUs. So:
 *  1. a map before the first attach returns -EINVAL (no MMU to store it in);
 *  2. detach clears and frees the tables: every mapping is lost, and after re-attach the device
 *     faults where it used to translate;
 *  3. while detached the MMU is off and the device's DMA goes through untranslated (what the v6.7
 *     conversion called the identity domain);
 *  4. one client per domain: a second device's attach is -EINVAL;
 *  5. a second domain attached through the same MMU takes the MMU's table base over: the first
 *     device now translates through the second domain's (empty) table.
 *
 * Why: omap is the driver the 2023 thread said still breaks invariants (a) and (b) ("its pgd lives
 * in omap_iommu instead of the domain"). The behaviour is the same in every modelled era, except
 * how a device starts: unattached in v6.6 (no default domain), in the static identity domain from
 * v6.7. Runs on any kernel profile.
 */
import {
  lab,
  iommu_attach_device,
  iommu_detach_device,
  iommu_get_domain_for_dev,
  iommu_map,
  iommu_iova_to_phys,
  iommu_paging_domain_alloc,
  iommu_domain_alloc,
  IS_ERR,
  IOMMU_READ,
  IOMMU_WRITE,
  IOMMU_DOMAIN_IDENTITY,
  EINVAL,
  SZ_64K,
  SZ_4K,
  expect,
} from 'iommu-lab';

const RW = IOMMU_READ | IOMMU_WRITE;
const kernel = lab.kernel();

const mmu = lab.add_iommu('ipu_mmu', 'omap-iommu');
const ipu = lab.add_device('ipu', { iommu: mmu, bus: 'platform' });
const other = lab.add_device('ipu_b', { iommu: mmu, bus: 'platform' });

// How a device starts: no domain in v6.6, the static identity domain from v6.7.
const start = iommu_get_domain_for_dev(ipu);
if (kernel === 'v6.6') expect(start).toBe(null);
else expect(start?.type).toBe(IOMMU_DOMAIN_IDENTITY);

function newDomain() {
  const d = kernel === 'v6.16' ? iommu_paging_domain_alloc(ipu) : iommu_domain_alloc(lab.bus('platform'));
  if (!d || IS_ERR(d)) throw new Error('no omap domain');
  return d;
}
const X = newDomain();
const buf = lab.mem.alloc(SZ_64K);

// 1. Nothing to map into before attach (invariant (a) broken).
expect(iommu_map(X, 0x10_0000, buf, SZ_64K, RW)).toBe(-EINVAL);

expect(iommu_attach_device(X, ipu)).toBe(0);
expect(iommu_map(X, 0x10_0000, buf, SZ_64K, RW)).toBe(0);
expect(ipu.dma_read(0x10_0000, 4)).toMatchObject({ ok: true, pa: buf });

// 4. One client per domain.
expect(iommu_attach_device(X, other)).toBe(-EINVAL);

// 2./3. Detach frees the table (invariant (b) broken); meanwhile the MMU is off.
iommu_detach_device(X, ipu);
expect(lab.checks().map((c) => c.id)).toContain('mappings-lost-on-detach');
expect(ipu.dma_read(0x10_0000, 4)).toMatchObject({ ok: true, pa: 0x10_0000 });
expect(iommu_attach_device(X, ipu)).toBe(0);
expect(iommu_iova_to_phys(X, 0x10_0000)).toBe(0);
expect(ipu.dma_read(0x10_0000, 4).ok).toBe(false);

// 5. The MMU has one table base: Y's attach through the same MMU replaces X's table.
expect(iommu_map(X, 0x20_0000, buf, SZ_4K, RW)).toBe(0);
expect(ipu.dma_read(0x20_0000, 4).ok).toBe(true);
const Y = newDomain();
expect(iommu_attach_device(Y, other)).toBe(0);
expect(ipu.dma_read(0x20_0000, 4).ok).toBe(false);
// X still believes it is attached; its next map lands in Y's table.
expect(iommu_map(X, 0x30_0000, buf, SZ_4K, RW)).toBe(0);
expect(iommu_iova_to_phys(Y, 0x30_0000)).toBe(buf);
