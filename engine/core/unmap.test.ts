/**
 * report_short_unmap's diagnosis when a driver unmaps nothing at an address (facts §2.3): a hole,
 * a larger leaf the range begins or ends inside, or a range refused whole for running past the
 * aperture — only the cause that is there is named.
 */
import { describe, expect, it } from 'vitest';
import type * as Api from '../script/iommu-lab.d.ts';
import { KERNELS, testLab } from '../script/test-lab.ts';

const RW = 3;
const SZ_4K = 0x1000;
const SZ_2M = 0x20_0000;

const unmap_checks = (L: typeof Api) =>
  L.lab
    .checks()
    .filter((c) => c.id.includes('unmap'))
    .map((c) => c.id);

describe('report_short_unmap', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: s390 refusing a range past its aperture (WARN_ON in s390_iommu_unmap_pages) is out-of-aperture-unmap, not a large page`, () => {
      const { L, dev, domain } = testLab({ kernel, driver: 's390-iommu' });
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const last = d.geometry.aperture_end + 1 - SZ_4K;
      expect(L.iommu_map(d, last, L.lab.mem.alloc(SZ_4K), SZ_4K, RW)).toBe(0);
      expect(L.iommu_unmap(d, last, 2 * SZ_4K)).toBe(0);
      expect(L.iommu_iova_to_phys(d, last)).not.toBe(0);
      expect(unmap_checks(L)).toEqual(['out-of-aperture-unmap']);
      expect(L.lab.checks().at(-1)?.message).toMatch(/runs past the aperture .*s390-iommu refused the range/);
    });
  }

  it('v6.16: arm-smmu-v3 refusing to unmap part of a 2M block still names the block, with its size', () => {
    const { L, dev, domain } = testLab({ kernel: 'v6.16', driver: 'arm-smmu-v3' });
    const d = domain();
    expect(L.iommu_attach_device(d, dev)).toBe(0);
    expect(L.iommu_map(d, SZ_2M, 0x4000_0000, SZ_2M, RW)).toBe(0);
    expect(L.iommu_unmap(d, SZ_2M, SZ_4K)).toBe(0);
    expect(unmap_checks(L)).toEqual(['partial-unmap-of-large-page']);
    expect(L.lab.checks().at(-1)?.message).toMatch(/inside a 0x200000 mapping at 0x200000/);
  });

  it('v6.16: arm-smmu-v3 stopping at a hole inside the aperture is unmap-of-hole, whatever the range does after', () => {
    const { L, dev, domain } = testLab({ kernel: 'v6.16', driver: 'arm-smmu-v3' });
    const d = domain();
    expect(L.iommu_attach_device(d, dev)).toBe(0);
    expect(L.iommu_unmap(d, d.geometry.aperture_end + 1 - SZ_4K, 2 * SZ_4K)).toBe(0);
    expect(unmap_checks(L)).toEqual(['unmap-of-hole']);
  });
});
