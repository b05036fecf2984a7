/**
 * The QEMU device model on its own: raw requests the Linux guest never sends (IOMMU-FACTS §5.1
 * "Spec" and "QEMU host", §7.17), and the translation order for endpoints in every state.
 */
import { describe, expect, it } from 'vitest';
// Tests drive the engine the way scripts do, through the script module (the driver guide's pattern).
import type * as Api from '../../script/iommu-lab.d.ts';
import { createLabModule } from '../../script/module.ts';
import {
  VIRTIO_IOMMU_T_ATTACH,
  VIRTIO_IOMMU_T_DETACH,
  VIRTIO_IOMMU_T_MAP,
  VIRTIO_IOMMU_T_PROBE,
  VIRTIO_IOMMU_T_UNMAP,
  STATUS_NAMES,
} from './constants.ts';
import { VirtioIommuReq } from './host.ts';
import type { VirtioIommu } from './viommu.ts';

const EP = 8; // the first device's endpoint ID (00:01.0)
/** The bare device, without q35's MSI window (machine_msi is not in iommu-lab.d.ts yet, hence the cast). */
const BARE: Api.VirtioIommuOptions = { machine_msi: false };

function setup(options: Api.VirtioIommuOptions = {}, resv: Api.ResvRegionSpec[] = []) {
  const { exports, session } = createLabModule({ kernel: 'v6.16' });
  const L = exports as unknown as typeof Api;
  const v = L.lab.add_iommu('viommu0', 'virtio-iommu', options);
  const dev = L.lab.add_device('nic0', { iommu: v, resv });
  const viommu = session.machine.iommus[0] as VirtioIommu;
  const host = viommu.host;
  const send = (r: VirtioIommuReq) => STATUS_NAMES[host.handle(r)];
  const attach = (domain: number, endpoint = EP, flags = 0) =>
    send(new VirtioIommuReq(VIRTIO_IOMMU_T_ATTACH, domain, endpoint, flags));
  const detach = (domain: number, endpoint = EP) =>
    send(new VirtioIommuReq(VIRTIO_IOMMU_T_DETACH, domain, endpoint));
  const map = (domain: number, start: number, end: number, phys = 0x8000_0000, flags = 3) =>
    send(new VirtioIommuReq(VIRTIO_IOMMU_T_MAP, domain, 0, flags, start, end, phys));
  const unmap = (domain: number, start: number, end: number) =>
    send(new VirtioIommuReq(VIRTIO_IOMMU_T_UNMAP, domain, 0, 0, start, end));
  const intervals = (domain: number) => {
    const m = host.domains.get(domain)?.mappings;
    return m ? m.start.map((s, i) => [s, m.last[i]]) : null;
  };
  return { L, dev, viommu, host, attach, detach, map, unmap, intervals, send };
}

/** A domain ID the guest is not using. */
const D = 100;

describe('QEMU host UNMAP (IOMMU-FACTS §7.17, §5.1)', () => {
  it('map(0,4) + map(5,9), unmap(0,9) → OK, both gone', () => {
    const { attach, map, unmap, intervals } = setup();
    expect(attach(D)).toBe('OK');
    expect(map(D, 0, 4)).toBe('OK');
    expect(map(D, 5, 9)).toBe('OK');
    expect(unmap(D, 0, 9)).toBe('OK');
    expect(intervals(D)).toEqual([]);
  });

  it('map(0,9), unmap(0,4) → RANGE, nothing removed', () => {
    const { attach, map, unmap, intervals } = setup();
    attach(D);
    map(D, 0, 9);
    expect(unmap(D, 0, 4)).toBe('RANGE');
    expect(intervals(D)).toEqual([[0, 9]]);
  });

  it('unmap on an empty domain → OK', () => {
    const { attach, unmap } = setup();
    attach(D);
    expect(unmap(D, 0, 0xffff)).toBe('OK');
  });

  it('overlapping re-MAP → INVAL, the first mapping unchanged', () => {
    const { attach, map, intervals, host } = setup();
    attach(D);
    expect(map(D, 0x1000, 0x1fff, 0x5000)).toBe('OK');
    expect(map(D, 0x1800, 0x2fff)).toBe('INVAL');
    expect(intervals(D)).toEqual([[0x1000, 0x1fff]]);
    expect(host.domains.get(D)!.mappings.phys).toEqual([0x5000]);
  });

  it('RANGE at the first partial overlap keeps what the request already removed removed', () => {
    const { attach, map, unmap, intervals } = setup();
    attach(D);
    map(D, 0, 4);
    map(D, 5, 9);
    map(D, 10, 19);
    expect(unmap(D, 0, 14)).toBe('RANGE');
    expect(intervals(D)).toEqual([[10, 19]]);
  });

  it('MAP and UNMAP on a bypass domain → INVAL; on an unknown domain → NOENT', () => {
    const { attach, map, unmap } = setup();
    expect(attach(D, EP, 1)).toBe('OK');
    expect(map(D, 0, 0xfff)).toBe('INVAL');
    expect(unmap(D, 0, 0xfff)).toBe('INVAL');
    expect(map(D + 1, 0, 0xfff)).toBe('NOENT');
    expect(unmap(D + 1, 0, 0xfff)).toBe('NOENT');
  });

  it('MAP with an unknown flag → INVAL; MMIO is a known one', () => {
    const { attach, map } = setup();
    attach(D);
    expect(map(D, 0, 0xfff, 0, 8)).toBe('INVAL');
    expect(map(D, 0, 0xfff, 0, 4)).toBe('OK');
  });

  it('QEMU checks neither alignment nor input_range; spec_checks adds both (RANGE)', () => {
    const qemu = setup({ input_range: [0, 0xffff_ffff] });
    qemu.attach(D);
    expect(qemu.map(D, 0x800, 0x17ff)).toBe('OK');
    expect(qemu.map(D, 0x1_0000_0000, 0x1_0000_0fff)).toBe('OK');
    const spec = setup({ input_range: [0, 0xffff_ffff], spec_checks: true });
    spec.attach(D);
    expect(spec.map(D, 0x800, 0x17ff)).toBe('RANGE');
    expect(spec.map(D, 0x1000, 0x1fff, 0x800)).toBe('RANGE');
    expect(spec.map(D, 0x1_0000_0000, 0x1_0000_0fff)).toBe('RANGE');
    expect(spec.map(D, 0x1000, 0x1fff)).toBe('OK');
  });

  it('spec_checks: a MAP over a RESERVED region of an attached endpoint → INVAL', () => {
    const { attach, map } = setup({ spec_checks: true }, [
      { start: 0x10_0000, length: 0x1000, type: 'reserved' },
    ]);
    attach(D);
    expect(map(D, 0x10_0000, 0x10_0fff)).toBe('INVAL');
    expect(map(D, 0x10_1000, 0x10_1fff)).toBe('OK');
  });

  it('spec_checks: a MAP over an MSI region is refused too (the device SHOULD reject a MAP overlapping any RESV_MEM region)', () => {
    const msi: Api.ResvRegionSpec[] = [{ start: 0x800_0000, length: 0x10_0000, type: 'msi' }];
    const spec = setup({ ...BARE, spec_checks: true }, msi);
    spec.attach(D);
    expect(spec.map(D, 0x800_0000, 0x800_0fff)).toBe('INVAL');
    expect(spec.map(D, 0x7ff_f000, 0x800_0fff)).toBe('INVAL');
    expect(spec.map(D, 0x810_0000, 0x810_0fff)).toBe('OK');
    // q35's MSI window, which every endpoint has by default.
    const q35 = setup({ spec_checks: true });
    q35.attach(D);
    expect(q35.map(D, 0xfee0_0000, 0xfee0_0fff)).toBe('INVAL');
    // QEMU itself checks neither subtype at MAP.
    const qemu = setup({}, msi);
    qemu.attach(D);
    expect(qemu.map(D, 0x800_0000, 0x800_0fff)).toBe('OK');
    expect(qemu.map(D, 0xfee0_0000, 0xfee0_0fff)).toBe('OK');
  });
});

describe('QEMU host ATTACH and DETACH (IOMMU-FACTS §5.1)', () => {
  it('ATTACH: bad flags → INVAL, unknown endpoint → NOENT', () => {
    const { attach } = setup();
    expect(attach(D, EP, 2)).toBe('INVAL');
    expect(attach(D, 0x99)).toBe('NOENT');
  });

  it('ATTACH elsewhere destroys the old domain, with its mappings, once it is empty', () => {
    const { attach, map, host } = setup();
    attach(D);
    map(D, 0, 0xfff);
    expect(attach(D + 1)).toBe('OK');
    expect(host.domains.has(D)).toBe(false);
    expect(attach(D)).toBe('OK'); // a new, empty domain with the same ID
    expect(host.domains.get(D)!.mappings.length).toBe(0);
  });

  it('re-ATTACH of the only endpoint to its own domain starts the domain afresh (QEMU detaches first)', () => {
    const { attach, map, host } = setup();
    attach(D);
    map(D, 0, 0xfff);
    expect(attach(D)).toBe('OK');
    expect(host.domains.get(D)!.mappings.length).toBe(0);
  });

  it('a bypass-flag mismatch → INVAL, and the endpoint is left detached from its old domain', () => {
    const { L, dev, attach, host } = setup();
    L.lab.add_device('nic1', { iommu: dev.iommu }); // endpoint 0x10
    expect(attach(D + 1, 0x10, 1)).toBe('OK');
    expect(attach(D)).toBe('OK');
    expect(attach(D + 1, EP, 0)).toBe('INVAL');
    expect(host.endpoints.get(EP)!.domain).toBeNull();
    expect(host.domains.has(D)).toBe(false);
    expect(host.domains.get(D + 1)!.endpoints).toEqual([0x10]);
  });

  it('DETACH: unknown endpoint → NOENT, wrong domain → INVAL, the last endpoint out destroys the domain', () => {
    const { attach, detach, map, host } = setup();
    expect(detach(D, 0x99)).toBe('NOENT');
    attach(D);
    map(D, 0, 0xfff);
    expect(detach(D + 1)).toBe('INVAL');
    expect(detach(D)).toBe('OK');
    expect(host.domains.has(D)).toBe(false);
    expect(detach(D)).toBe('INVAL'); // not attached any more
  });

  it('an unknown request type → UNSUPP', () => {
    const { send } = setup();
    expect(send(new VirtioIommuReq(9, 0))).toBe('UNSUPP');
  });
});

describe('QEMU host trace order (hw/virtio/virtio-iommu.c and trace-events)', () => {
  /** The host's events from `from` on, without the virtio_iommu_ prefix, with the tail's status. */
  const host_events = (L: typeof Api, from = 0) =>
    L.lab
      .trace()
      .slice(from)
      .filter((e) => e.name.startsWith('virtio_iommu_'))
      .map((e) => {
        const name = e.name.replace('virtio_iommu_', '');
        return name === 'req_tail' ? `req_tail ${String(e.type)} ${String(e.status)}` : name;
      });

  it("each request is traced as it starts, its work follows, and the lab's req_tail ends it with the status", () => {
    const { L, attach, map, unmap } = setup();
    // The guest's first ATTACH at probe: virtio_iommu_attach before the endpoint and domain it makes.
    const boot = host_events(L);
    // PROBE writes q35's MSI window back as its one RESV_MEM property.
    expect(boot.slice(0, 3)).toEqual(['probe', 'fill_resv_property', 'req_tail PROBE OK']);
    const first = boot.indexOf('attach');
    expect(boot.slice(first, first + 4)).toEqual([
      'attach',
      'get_endpoint',
      'get_domain',
      'req_tail ATTACH OK',
    ]);

    let mark = L.lab.trace().length;
    expect(attach(D)).toBe('OK');
    // QEMU: trace_virtio_iommu_attach first, then the old domain's put_domain, then get_domain.
    expect(host_events(L, mark)).toEqual(['attach', 'put_domain', 'get_domain', 'req_tail ATTACH OK']);

    mark = L.lab.trace().length;
    expect(map(D, 0, 0xfff)).toBe('OK');
    expect(map(D, 0x1000, 0x1fff)).toBe('OK');
    // A refused MAP is not traced by QEMU (trace_virtio_iommu_map comes after the checks): only its tail.
    expect(map(D, 0x1800, 0x27ff)).toBe('INVAL');
    expect(host_events(L, mark)).toEqual([
      'map',
      'req_tail MAP OK',
      'map',
      'req_tail MAP OK',
      'req_tail MAP INVAL',
    ]);

    mark = L.lab.trace().length;
    expect(unmap(D, 0, 0x1fff)).toBe('OK');
    // trace_virtio_iommu_unmap on entry, trace_virtio_iommu_unmap_done per mapping removed.
    expect(host_events(L, mark)).toEqual(['unmap', 'unmap_done', 'unmap_done', 'req_tail UNMAP OK']);
    expect(
      L.lab
        .trace()
        .slice(mark)
        .filter((e) => e.kind === 'virtio'),
    ).toMatchObject([
      { name: 'virtio_iommu_unmap', domain_id: D, virt_start: 0, virt_end: 0x1fff },
      { name: 'virtio_iommu_unmap_done', domain_id: D, virt_start: 0, virt_end: 0xfff },
      { name: 'virtio_iommu_unmap_done', domain_id: D, virt_start: 0x1000, virt_end: 0x1fff },
      { name: 'virtio_iommu_req_tail', type: 'UNMAP', domain_id: D, status: 'OK' },
    ]);

    // RANGE at the first partial overlap: what was removed before it is traced, then the status.
    map(D, 0, 0xfff);
    map(D, 0x1000, 0x2fff);
    mark = L.lab.trace().length;
    expect(unmap(D, 0, 0x1fff)).toBe('RANGE');
    expect(host_events(L, mark)).toEqual(['unmap', 'unmap_done', 'req_tail UNMAP RANGE']);
  });
});

describe('QEMU host PROBE (IOMMU-FACTS §5.1 "PROBE")', () => {
  it('unknown endpoint → NOENT; more RESV_MEM properties than probe_size holds → INVAL', () => {
    const many = Array.from({ length: 22 }, (_, i) => ({
      start: 0x1000_0000 + i * 0x1000,
      length: 0x1000,
      type: 'reserved' as const,
    }));
    const { send } = setup();
    expect(send(new VirtioIommuReq(VIRTIO_IOMMU_T_PROBE, 0, 0x99))).toBe('NOENT');
    // 22 × 24 bytes > 512: the guest's PROBE fails, so does the device's probe.
    expect(() => setup(BARE, many)).toThrow(/-EINVAL/);
    expect(() => setup(BARE, many.slice(0, 21))).not.toThrow();
    // q35's MSI window is one of the properties: 21 of the device's own and it make 22.
    expect(() => setup({}, many.slice(0, 21))).toThrow(/-EINVAL/);
    expect(() => setup({}, many.slice(0, 20))).not.toThrow();
  });
});

describe('QEMU host translation order (IOMMU-FACTS §5.1 "Translate order")', () => {
  const resv: Api.ResvRegionSpec[] = [
    { start: 0x10_0000, length: 0x1000, type: 'reserved' },
    { start: 0xfee0_0000, length: 0x10_0000, type: 'msi' },
  ];

  it('unattached, bypass off: MSI identity, RESERVED fault, elsewhere a DOMAIN fault', () => {
    const { dev, detach, viommu } = setup({ bypass: false }, resv);
    const domain = viommu.host.endpoints.get(EP)!.domain!.id;
    expect(detach(domain)).toBe('OK');
    expect(dev.dma_write(0xfee0_0000, [1])).toMatchObject({ ok: true, pa: 0xfee0_0000 });
    expect(dev.dma_read(0x10_0000, 4)).toMatchObject({ ok: false, fault: { reason: 'mapping' } });
    expect(dev.dma_read(0x20_0000, 4)).toMatchObject({ ok: false, fault: { reason: 'domain' } });
  });

  it('unattached, bypass on: identity everywhere, the RESERVED region included (QEMU bypass address space)', () => {
    const { dev, detach, viommu } = setup({ bypass: true }, resv);
    detach(viommu.host.endpoints.get(EP)!.domain!.id);
    expect(dev.dma_read(0x10_0000, 4)).toMatchObject({ ok: true, pa: 0x10_0000 });
    expect(dev.dma_read(0x20_0000, 4)).toMatchObject({ ok: true, pa: 0x20_0000 });
  });

  it('attached: RESERVED faults and MSI passes before the mappings are looked at', () => {
    const { L, dev, map, viommu } = setup({}, resv);
    const domain = viommu.host.endpoints.get(EP)!.domain!.id;
    expect(map(domain, 0x10_0000, 0x10_0fff, 0x9000_0000)).toBe('OK'); // QEMU lets it in
    expect(dev.dma_read(0x10_0000, 4)).toMatchObject({ ok: false, fault: { reason: 'mapping' } });
    expect(dev.dma_write(0xfee0_0000, [1])).toMatchObject({ ok: true, pa: 0xfee0_0000 });
    expect(dev.dma_read(0x30_0000, 4)).toMatchObject({ ok: false, fault: { reason: 'mapping' } });
    expect(L.lab.checks()).toEqual([]);
  });

  it('a host UNMAP drops the cached translation (the unmap notifier), so the next access faults', () => {
    const { dev, map, unmap, viommu } = setup();
    const domain = viommu.host.endpoints.get(EP)!.domain!.id;
    map(domain, 0x40_0000, 0x40_0fff, 0x9000_0000);
    // A MAP sent to the host directly: the guest's tree does not hold it, so the device's use of it
    // is a stale translation, first walked, then cached.
    expect(dev.dma_read(0x40_0000, 4)).toMatchObject({ ok: true, tlb: 'stale' });
    expect(dev.dma_read(0x40_0000, 4)).toMatchObject({ ok: true, tlb: 'stale' });
    expect(unmap(domain, 0x40_0000, 0x40_0fff)).toBe('OK');
    expect(dev.dma_read(0x40_0000, 4)).toMatchObject({ ok: false, fault: { reason: 'mapping' } });
  });
});
