/**
 * virtio-iommu identity domains — IOMMU-FACTS §5.1 (BYPASS_CONFIG, viommu_domain_map_identity),
 * scenario idea 16.
 *
 * A device whose default domain is IDENTITY can be given it two ways. With the BYPASS_CONFIG feature
 * (QEMU offers it since 7.0) the driver attaches it to a bypass domain: one ATTACH with flags = 1
 * and no MAP at all, and the host stops translating for it. Without it, the driver fills a paging
 * domain with 1:1 mappings over the whole input range, minus the reserved regions the host reported
 * through PROBE (each widened to the granule): N regions leave N + 1 mappings, replayed as N + 1 MAPs
 * when the domain is attached; a RESERVED region faults, while the host lets the MSI doorbell through.
 *
 * A bypass domain refuses MAP and UNMAP (INVAL). Before v6.16 the bypass identity domain is an
 * ordinary domain marked bypass, so a map_pages on it reaches the host and is refused (v6.6 fails the
 * call; v6.8 queues the MAP and never reads the refusal); from v6.16 it is one static domain whose
 * only op is attach_dev.
 *
 * Run with --kernel v6.6, v6.8 or v6.16.
 */
import {
  lab,
  iommu_get_domain_for_dev,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_READ,
  IOMMU_WRITE,
  EINVAL,
  expect,
} from 'iommu-lab';

const kernel = lab.kernel();
// The host reports these two regions for each device: one RESERVED, one MSI doorbell.
const resv = [
  { start: 0x2000_0000, length: 0x10_0000, type: 'reserved' as const },
  { start: 0xfee0_0000, length: 0x10_0000, type: 'msi' as const },
];

// ── with BYPASS_CONFIG (QEMU's default features) ──
const bypassing = lab.add_iommu('viommu0', 'virtio-iommu');
const gpu = lab.add_device('gpu0', { iommu: bypassing, resv, default_domain: 'identity' });
const bypass_domain = iommu_get_domain_for_dev(gpu)!;
expect(bypass_domain.type).toBe(IOMMU_DOMAIN_IDENTITY);
const sent = bypassing.host!.requests.filter((r) => r.type !== 'PROBE');
expect(sent).toHaveLength(1);
expect(sent[0]).toMatchObject({ type: 'ATTACH', flags: 1, status: 'OK' });
// Out of translation entirely: every address goes through untouched.
expect(gpu.dma_read(0x1234_5000, 4)).toMatchObject({ ok: true, pa: 0x1234_5000 });

if (kernel === 'v6.16') {
  // The static identity domain: ATTACH to the ID reserved at probe, and no map_pages to call.
  expect(sent[0].domain).toBe(0);
  expect(bypass_domain.ops.map_pages).toBe(undefined);
} else {
  // An ordinary domain marked bypass: the MAP reaches the host, which refuses it. v6.6 sends it at
  // once and fails the call; v6.8 only queues it, and the sync that sends it reads no status.
  const r = bypass_domain.ops.map_pages!(
    bypass_domain,
    0x10000,
    0x8000_0000,
    0x1000,
    1,
    IOMMU_READ | IOMMU_WRITE,
  );
  if (kernel === 'v6.6') expect(r).toEqual({ ret: -EINVAL, mapped: 0 });
  else {
    expect(r).toEqual({ ret: 0, mapped: 0x1000 });
    expect(bypass_domain.ops.iotlb_sync_map!(bypass_domain, 0x10000, 0x1000)).toBe(0);
  }
  expect(bypassing.host!.requests.at(-1)).toMatchObject({ type: 'MAP', status: 'INVAL' });
}

// ── without BYPASS_CONFIG ──
const filling = lab.add_iommu('viommu1', 'virtio-iommu', {
  features: ['VERSION_1', 'INPUT_RANGE', 'DOMAIN_RANGE', 'MAP_UNMAP', 'MMIO', 'PROBE'],
});
const nic = lab.add_device('nic0', { iommu: filling, resv, default_domain: 'identity' });
expect(iommu_get_domain_for_dev(nic)!.type).toBe(IOMMU_DOMAIN_IDENTITY);
const requests = filling.host!.requests;
expect(requests.filter((r) => r.type === 'ATTACH')).toMatchObject([{ flags: 0, status: 'OK' }]);
const maps = requests.filter((r) => r.type === 'MAP');
// 2 regions → 3 identity MAPs: below the RESERVED region, between the two, above the MSI window.
expect(maps).toHaveLength(resv.length + 1);
expect(maps.map((r) => [r.virt_start, r.virt_end])).toEqual([
  [0, 0x1fff_ffff],
  [0x2010_0000, 0xfedf_ffff],
  [0xfef0_0000, Number.MAX_SAFE_INTEGER], // the input range ends at 2^64 − 1
]);
expect(maps.every((r) => r.phys_start === r.virt_start && r.status === 'OK')).toBe(true);
expect(nic.dma_read(0x1234_5000, 4)).toMatchObject({ ok: true, pa: 0x1234_5000 });
expect(nic.dma_read(0x2000_0000, 4)).toMatchObject({ ok: false, fault: { reason: 'mapping' } });
// The MSI doorbell is not mapped, but the host lets it through untranslated.
expect(nic.dma_write(0xfee0_0000, [1, 0, 0, 0])).toMatchObject({ ok: true, pa: 0xfee0_0000 });
