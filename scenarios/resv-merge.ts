/**
 * Reserved regions of a group — IOMMU-FACTS §3.2, scenario idea 9.
 *
 * iommu_get_group_resv_regions() inserts every device's regions sorted by start and type and merges
 * only regions of the same type that overlap or touch. A's DIRECT [0x1000–0x2FFF] and B's DIRECT
 * [0x3000–0x3FFF] become one; B's RESERVED [0x2000–0x5FFF] overlaps them but stays apart; the
 * SMMU's software MSI window (SW_MSI, shown as "msi" in sysfs) appears once.
 */
import {
  lab,
  iommu_group_get,
  iommu_get_group_resv_regions,
  IOMMU_RESV_DIRECT,
  IOMMU_RESV_RESERVED,
  IOMMU_RESV_SW_MSI,
  expect,
} from 'iommu-lab';

const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
const a = lab.add_device('a', {
  iommu: smmu,
  group: 'slot0',
  resv: [{ start: 0x1000, length: 0x2000, type: 'direct' }],
});
lab.add_device('b', {
  iommu: smmu,
  group: 'slot0',
  resv: [
    { start: 0x3000, length: 0x1000, type: 'direct' },
    { start: 0x2000, length: 0x4000, type: 'reserved' },
  ],
});

const group = iommu_group_get(a);
if (!group) throw new Error('no group');
expect(group.devices).toHaveLength(2);
const regions = iommu_get_group_resv_regions(group).map((r) => ({
  start: r.start,
  end: r.start + r.length - 1,
  type: r.type,
}));
expect(regions).toEqual([
  { start: 0x1000, end: 0x3fff, type: IOMMU_RESV_DIRECT },
  { start: 0x2000, end: 0x5fff, type: IOMMU_RESV_RESERVED },
  { start: 0x8000000, end: 0x80fffff, type: IOMMU_RESV_SW_MSI },
]);
console.log(
  regions
    .map((r) => `0x${r.start.toString(16).padStart(16, '0')} 0x${r.end.toString(16).padStart(16, '0')}`)
    .join('\n'),
);
