/**
 * The reserved regions QEMU's device reports for an endpoint (facts §5.1 "PROBE"): the machine's,
 * which the board code gives every virtio-iommu-pci through its reserved-regions property, and the
 * endpoint's own (the lab's device `resv`; in QEMU, the holes of an assigned device's host IOVA
 * ranges). QEMU builds each endpoint's list with resv_region_list_insert (util/reserved-region.c),
 * the machine's regions last and with priority: they cut whatever endpoint region they overlap.
 */
import { Q35_MSI_HIGH, Q35_MSI_LOW, VIRTIO_IOMMU_RESV_MEM_T_MSI } from './constants.ts';
import type { HostResvRegion } from './host.ts';

/** q35 (pc_machine_device_pre_plug_cb): the APIC range as an MSI region, untranslated for every endpoint. */
export const Q35_RESERVED_REGIONS: readonly HostResvRegion[] = Object.freeze([
  Object.freeze({ low: Q35_MSI_LOW, high: Q35_MSI_HIGH, subtype: VIRTIO_IOMMU_RESV_MEM_T_MSI }),
]);

/**
 * The endpoint's regions with the machine's inserted as resv_region_list_insert does: an endpoint
 * region loses the part a machine region covers (split in two when it holds it, dropped when held),
 * and each machine region goes before the first region that starts above it. With no machine
 * regions the endpoint's list is returned as given.
 */
export function endpoint_resv_regions(
  own: readonly HostResvRegion[],
  machine: readonly HostResvRegion[],
): HostResvRegion[] {
  let out = [...own];
  for (const m of machine) {
    const kept: HostResvRegion[] = [];
    for (const r of out) {
      if (r.high < m.low || r.low > m.high) {
        kept.push(r);
        continue;
      }
      if (r.low < m.low) kept.push({ low: r.low, high: m.low - 1, subtype: r.subtype });
      if (r.high > m.high) kept.push({ low: m.high + 1, high: r.high, subtype: r.subtype });
    }
    let at = kept.findIndex((r) => r.low > m.low);
    if (at < 0) at = kept.length;
    kept.splice(at, 0, m);
    out = kept;
  }
  return out;
}
