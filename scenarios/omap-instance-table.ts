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
 *  4. an MMU's clients share its one group (omap_iommu_device_group): with two clients a lone
 *     device's attach is -EINVAL (the group is not a group of one), and the group's attach fails
 *     in the driver, one client per domain;
 *  5. the driver does not check whether its MMU already serves a domain: a second domain attached
 *     through the same MMU (by the driver op, called directly: the core keeps one domain per
 *     group) takes the MMU's table base over, and the first device translates through its table.
 *
 * Why: omap is the driver the 2023 thread said still breaks invariants (a) and (b) ("its pgd lives
 * in omap_iommu instead of the domain"). The behaviour is the same in every modelled era, except
 * how a device starts: unattached in v6.6 (no default domain), in the static identity domain from
 * v6.7. Runs on any kernel profile.
 */
import {
  lab,
  iommu_attach_device,
  iommu_attach_group,
  iommu_detach_device,
  iommu_group_get,
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

// How a device starts: no domain in v6.6, the static identity domain from v6.7.
const start = iommu_get_domain_for_dev(ipu);
if (kernel === 'v6.6') expect(start).toBe(null);
else expect(start?.type).toBe(IOMMU_DOMAIN_IDENTITY);

function newDomain(dev = ipu) {
  const d = kernel === 'v6.16' ? iommu_paging_domain_alloc(dev) : iommu_domain_alloc(lab.bus('platform'));
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

// 2./3. Detach frees the table (invariant (b) broken); meanwhile the MMU is off.
iommu_detach_device(X, ipu);
expect(lab.checks().map((c) => c.id)).toContain('mappings-lost-on-detach');
expect(ipu.dma_read(0x10_0000, 4)).toMatchObject({ ok: true, pa: 0x10_0000 });
expect(iommu_attach_device(X, ipu)).toBe(0);
expect(iommu_iova_to_phys(X, 0x10_0000)).toBe(0);
expect(ipu.dma_read(0x10_0000, 4).ok).toBe(false);

// 4. A second MMU with two clients: they share its one group.
const dspMmu = lab.add_iommu('dsp_mmu', 'omap-iommu');
const dsp = lab.add_device('dsp', { iommu: dspMmu, bus: 'platform' });
const dspB = lab.add_device('dsp_b', { iommu: dspMmu, bus: 'platform' });
const dspGroup = iommu_group_get(dsp)!;
expect(iommu_group_get(dspB)).toBe(dspGroup);
const D = newDomain(dsp);
expect(iommu_attach_device(D, dsp)).toBe(-EINVAL);
expect(iommu_attach_group(D, dspGroup)).toBe(-EINVAL);

// 5. The MMU has one table base: E's attach through the same MMU replaces F's table.
const [F, E] = [newDomain(dsp), newDomain(dspB)];
expect(F.ops.attach_dev!(F, dsp)).toBe(0);
expect(iommu_map(F, 0x20_0000, buf, SZ_4K, RW)).toBe(0);
expect(dsp.dma_read(0x20_0000, 4).ok).toBe(true);
expect(E.ops.attach_dev!(E, dspB)).toBe(0);
expect(dsp.dma_read(0x20_0000, 4).ok).toBe(false);
// F still believes it is attached; its next map lands in E's table.
expect(iommu_map(F, 0x30_0000, buf, SZ_4K, RW)).toBe(0);
expect(iommu_iova_to_phys(E, 0x30_0000)).toBe(buf);
