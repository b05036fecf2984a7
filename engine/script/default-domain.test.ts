/**
 * Default domain type selection (IOMMU-FACTS §1.5 "Default type selection"), through the module a
 * script imports.
 */
import { describe, expect, it } from 'vitest';
import type * as Api from './iommu-lab.d.ts';
import { createLabModule } from './module.ts';

function lab(kernel: Api.KernelName = 'v6.16') {
  const L = createLabModule({ kernel }).exports as unknown as typeof Api;
  return { L, smmu: L.lab.add_iommu('smmu0', 'arm-smmu-v3') };
}

describe('default domain type', () => {
  it('is DMA (strict) for an arm64 driver by default: Kconfig IOMMU_DEFAULT_DMA_STRICT', () => {
    const { L, smmu } = lab();
    const d = L.lab.add_device('d', { iommu: smmu });
    expect(L.iommu_get_domain_for_dev(d)?.type).toBe(L.IOMMU_DOMAIN_DMA);
  });

  it.each([
    ['identity', 4],
    ['dma', 3],
    ['dma-fq', 0xb],
    ['blocked', 0],
  ] as const)("follows default_domain: '%s'", (request, type) => {
    const { L, smmu } = lab();
    const d = L.lab.add_device('d', { iommu: smmu, default_domain: request });
    expect(L.iommu_get_domain_for_dev(d)?.type).toBe(type);
  });

  it('a blocked default domain stops DMA', () => {
    const { L, smmu } = lab();
    const d = L.lab.add_device('d', { iommu: smmu, default_domain: 'blocked' });
    expect(d.dma_read(0x1000, 4).ok).toBe(false);
  });

  it('an untrusted device gets a strict DMA domain even when the default would be lazy', () => {
    const { L, smmu } = lab();
    const d = L.lab.add_device('d', { iommu: smmu, trusted: false });
    expect(L.iommu_get_domain_for_dev(d)?.type).toBe(L.IOMMU_DOMAIN_DMA);
  });

  it("an untrusted device asking for identity or blocked is refused, as Linux refuses to probe it; 'dma-fq' becomes strict DMA (facts §1.5)", () => {
    const { L, smmu } = lab();
    for (const asked of ['identity', 'blocked'] as const)
      expect(() =>
        L.lab.add_device(`u-${asked}`, { iommu: smmu, trusted: false, default_domain: asked }),
      ).toThrow(
        new RegExp(
          `u-${asked} is untrusted, but default_domain '${asked}' asks for an? ${asked} domain: Linux refuses to probe it`,
        ),
      );
    const lazy = L.lab.add_device('u-fq', { iommu: smmu, trusted: false, default_domain: 'dma-fq' });
    expect(L.iommu_get_domain_for_dev(lazy)?.type).toBe(L.IOMMU_DOMAIN_DMA);
    // A platform device has no "untrusted": the request stands.
    const plat = L.lab.add_device('p', {
      iommu: smmu,
      bus: 'platform',
      trusted: false,
      default_domain: 'identity',
    });
    expect(L.iommu_get_domain_for_dev(plat)?.type).toBe(L.IOMMU_DOMAIN_IDENTITY);
  });

  it('v6.6: an untrusted device asking for identity or blocked gets DMA, asked nothing (iommu_get_def_domain_type before 59ddce4418da)', () => {
    const { L, smmu } = lab('v6.6');
    for (const asked of ['identity', 'blocked'] as const) {
      const d = L.lab.add_device(`u-${asked}`, { iommu: smmu, trusted: false, default_domain: asked });
      expect(L.iommu_get_domain_for_dev(d)?.type).toBe(L.IOMMU_DOMAIN_DMA);
    }
    const overridden = L.lab.checks().filter((c) => c.id === 'default-domain-overridden');
    expect(overridden.map((c) => c.message)).toEqual([
      'u-identity asked for an identity default domain but got DMA: v6.6 gives an untrusted device DMA before it asks its driver or a wish (iommu_get_def_domain_type)',
      'u-blocked asked for a blocked default domain but got DMA: v6.6 gives an untrusted device DMA before it asks its driver or a wish (iommu_get_def_domain_type)',
    ]);
  });

  it('a requested type the driver cannot allocate fails the probe from v6.7; v6.6 leaves the device without one', () => {
    // arm-smmu-v3 has no blocked domain before v6.9.
    const v68 = lab('v6.8');
    expect(() => v68.L.lab.add_device('d', { iommu: v68.smmu, default_domain: 'blocked' })).toThrow(
      /arm-smmu-v3 cannot allocate the requested BLOCKED default domain for d \(-EOPNOTSUPP\).*probe fails/,
    );
    // Nothing of the failed probe stays: the name is free and the next group is group 0.
    const d = v68.L.lab.add_device('d', { iommu: v68.smmu });
    expect(v68.L.iommu_group_get(d)?.id).toBe(0);
    expect(v68.L.iommu_get_domain_for_dev(d)?.type).toBe(v68.L.IOMMU_DOMAIN_DMA);
    const v66 = lab('v6.6');
    const old = v66.L.lab.add_device('d', { iommu: v66.smmu, default_domain: 'blocked' });
    expect(v66.L.iommu_get_domain_for_dev(old)).toBeNull();
  });

  it("v6.6, a driver without default domains: a device joining a group takes the group's domain (__iommu_probe_device attaches whenever group->domain is set)", () => {
    const L = createLabModule({ kernel: 'v6.6' }).exports as unknown as typeof Api;
    const zpci = L.lab.add_iommu('zpci', 's390-iommu');
    const a = L.lab.add_device('a', { iommu: zpci, group: 'g' });
    expect(L.iommu_get_domain_for_dev(a)).toBeNull();
    const d = L.iommu_domain_alloc(L.lab.bus('pci'))!;
    expect(L.iommu_attach_group(d, L.iommu_group_get(a)!)).toBe(0);
    const iova = 0x1_0010_0000;
    expect(L.iommu_map(d, iova, L.lab.mem.alloc(0x1000), 0x1000, L.IOMMU_READ)).toBe(0);
    const c = L.lab.add_device('c', { iommu: zpci, group: 'g' });
    expect(L.iommu_get_domain_for_dev(c)).toBe(d);
    expect(c.dma_read(iova, 4)).toMatchObject({ ok: true });
  });

  it('a device with a direct region cannot join a group whose DMA is owned (blocking domain): its probe fails', () => {
    for (const kernel of ['v6.6', 'v6.16'] as const) {
      const { L, smmu } = lab(kernel);
      const a = L.lab.add_device('a', { iommu: smmu, group: 'g' });
      expect(L.iommu_device_claim_dma_owner(a, 'vfio')).toBe(0);
      expect(() =>
        L.lab.add_device('b', {
          iommu: smmu,
          group: 'g',
          resv: [{ start: 0x10_0000, length: 0x1000, type: 'direct' }],
        }),
      ).toThrow(/b cannot join group 0: attaching it to the group's .* domain \d+ failed \(-EINVAL\)/);
      expect(L.lab.checks().map((c) => c.id)).toContain('require-direct-blocked');
      expect(L.iommu_group_get(a)?.devices).toHaveLength(1);
    }
  });

  it("a device with a direct region asking for a blocked default domain: the core's refusal, not the driver's", () => {
    const { L, smmu } = lab();
    expect(() =>
      L.lab.add_device('d', {
        iommu: smmu,
        default_domain: 'blocked',
        resv: [{ start: 0x10_0000, length: 0x1000, type: 'direct' }],
      }),
    ).toThrow(
      "d's BLOCKED default domain: the core refuses it (-EINVAL): d has a direct region, and firmware that asks for 1:1 mappings rules out a blocking domain, so the probe fails",
    );
  });

  it('direct mappings that fail again after the attach fail the probe', () => {
    for (const kernel of ['v6.6', 'v6.16'] as const) {
      const { L, smmu } = lab(kernel);
      // Beyond the SMMU's 48-bit input range: no attach makes it mappable.
      expect(() =>
        L.lab.add_device('d', { iommu: smmu, resv: [{ start: 2 ** 48, length: 0x1000, type: 'direct' }] }),
      ).toThrow(/direct mappings failed before the attach and again after it .*probe fails/);
      expect(L.lab.checks().map((c) => c.id)).not.toContain('direct-mapping-after-attach');
      // The unwinding releases the device before the domain is freed: no caller bug to report.
      expect(L.lab.checks().map((c) => c.id)).not.toContain('domain-freed-while-attached');
    }
  });

  it('v6.6 arm-smmu-v3: the default domain is finalised at its first attach, after the direct mappings failed', () => {
    const { L, smmu } = lab('v6.6');
    const d = L.lab.add_device('d', {
      iommu: smmu,
      resv: [{ start: 0x10_0000, length: 0x1000, type: 'direct' }],
    });
    const dom = L.iommu_get_domain_for_dev(d)!;
    expect(L.iommu_iova_to_phys(dom, 0x10_0000)).toBe(0x10_0000);
    const ids = L.lab.checks().map((c) => c.id);
    expect(ids).toContain('attach-time-finalise');
    expect(ids).toContain('direct-mapping-after-attach');
  });

  describe("a request the type selection overrides raises 'default-domain-overridden' (facts §1.5)", () => {
    const overridden = (L: typeof Api) =>
      L.lab
        .checks()
        .filter((c) => c.id === 'default-domain-overridden')
        .map((c) => c.message);

    it('a request that stands raises nothing', () => {
      const { L, smmu } = lab();
      L.lab.add_device('d', { iommu: smmu, default_domain: 'identity' });
      expect(overridden(L)).toEqual([]);
    });

    it("a device joining a group takes the type chosen at the group's first probe", () => {
      const { L, smmu } = lab();
      const a = L.lab.add_device('a', { iommu: smmu, group: 'g', default_domain: 'dma' });
      const b = L.lab.add_device('b', { iommu: smmu, group: 'g', default_domain: 'identity' });
      expect(L.iommu_get_domain_for_dev(b)).toBe(L.iommu_get_domain_for_dev(a));
      expect(L.iommu_get_domain_for_dev(b)?.type).toBe(L.IOMMU_DOMAIN_DMA);
      expect(overridden(L)).toEqual([
        "b asked for an identity default domain but got DMA: it joined group 0, whose default domain was chosen when a was probed (a device added later takes the group's)",
      ]);
      // A later device asking for what the group has raises nothing more.
      L.lab.add_device('c', { iommu: smmu, group: 'g', default_domain: 'dma' });
      expect(overridden(L)).toHaveLength(1);
    });

    it("'dma-fq' on an untrusted device becomes strict DMA (step 2)", () => {
      const { L, smmu } = lab();
      L.lab.add_device('u', { iommu: smmu, trusted: false, default_domain: 'dma-fq' });
      expect(overridden(L)).toEqual([
        'u asked for a dma-fq default domain but got DMA: an untrusted device in the group keeps its DMA domain strict',
      ]);
    });

    it.each([
      ['intel-iommu', { caching_mode: true }],
      ['amd-iommu', { np_cache: true }],
    ] as const)(
      "'dma-fq' behind %s that made DMA strict (iommu_set_dma_strict) becomes strict DMA, as iommu.strict=0 would",
      (driver, options) => {
        const L = createLabModule({ kernel: 'v6.16' }).exports as unknown as typeof Api;
        const unit = L.lab.add_iommu('unit0', driver, options);
        const d = L.lab.add_device('d', { iommu: unit, default_domain: 'dma-fq' });
        expect(L.iommu_get_domain_for_dev(d)?.type).toBe(L.IOMMU_DOMAIN_DMA);
        expect(overridden(L)).toEqual([
          `d asked for a dma-fq default domain but got DMA: ${driver} made DMA domains strict (iommu_set_dma_strict), which overrides a lazy wish as it overrides iommu.strict=0`,
        ]);
      },
    );

    it("omap-iommu from v6.7: 32-bit Arm starts from IDENTITY, so 'dma' is not what it gets (step 3)", () => {
      const L = createLabModule({ kernel: 'v6.16' }).exports as unknown as typeof Api;
      const omap = L.lab.add_iommu('mmu_dsp', 'omap-iommu');
      const d = L.lab.add_device('dsp', { iommu: omap, bus: 'platform', default_domain: 'dma' });
      expect(L.iommu_get_domain_for_dev(d)?.type).toBe(L.IOMMU_DOMAIN_IDENTITY);
      expect(overridden(L)).toEqual([
        'dsp asked for a dma default domain but got IDENTITY: from v6.7 32-bit Arm (no IOMMU_DMA) starts from IDENTITY, and IDENTITY wins a conflict',
      ]);
    });

    it('v6.6: a type the driver cannot allocate leaves the device with none', () => {
      const { L, smmu } = lab('v6.6');
      L.lab.add_device('d', { iommu: smmu, default_domain: 'blocked' });
      expect(overridden(L)).toEqual([
        "d asked for a blocked default domain but has none: arm-smmu-v3's domain_alloc returned NULL for it and v6.6 probes the device without one",
      ]);
    });
    it('an untrusted device joining an identity group gets no strict DMA domain, and says so', () => {
      const { L, smmu } = lab();
      L.lab.add_device('gpu', { iommu: smmu, group: 'g', default_domain: 'identity' });
      const ext = L.lab.add_device('ext', { iommu: smmu, group: 'g', trusted: false });
      expect(L.iommu_get_domain_for_dev(ext)?.type).toBe(L.IOMMU_DOMAIN_IDENTITY);
      expect(overridden(L)).toEqual([
        'ext is untrusted but joined group 0, whose IDENTITY default domain was chosen when gpu was probed: it does not get the strict DMA domain an untrusted device is given',
      ]);
    });
  });
});

describe('lab.cmdline: the IOMMU core kernel parameters (facts §1.5, §4.2, §4.3)', () => {
  const fresh = () => createLabModule({ kernel: 'v6.16' }).exports as unknown as typeof Api;
  /** The default domain type a device gets with `cmdline`, behind `driver` (with `options`). */
  const defaultType = (
    cmdline: string,
    driver: Api.DriverName,
    spec: Partial<Api.DeviceSpec> = {},
    options: Record<string, unknown> = {},
  ) => {
    const L = fresh();
    L.lab.cmdline(cmdline);
    const dev = L.lab.add_device('d', { iommu: L.lab.add_iommu('i', driver, options as never), ...spec });
    return L.iommu_get_domain_for_dev(dev)?.type;
  };
  const { IOMMU_DOMAIN_DMA: DMA, IOMMU_DOMAIN_DMA_FQ: DMA_FQ, IOMMU_DOMAIN_IDENTITY: IDENTITY } = fresh();

  it('iommu.strict flips the arch default both ways; a driver that asks for strict still wins', () => {
    expect(defaultType('iommu.strict=0', 'arm-smmu-v3')).toBe(DMA_FQ);
    expect(defaultType('iommu.strict=y', 'amd-iommu')).toBe(DMA);
    // VT-d in caching mode calls iommu_set_dma_strict.
    expect(defaultType('iommu.strict=off', 'intel-iommu', {}, { caching_mode: true })).toBe(DMA);
  });

  it('iommu.passthrough=1 gives identity default domains, but an untrusted device still gets DMA', () => {
    expect(defaultType('iommu.passthrough=1', 'arm-smmu-v3')).toBe(IDENTITY);
    expect(defaultType('iommu.passthrough=1', 'arm-smmu-v3', { trusted: false })).toBe(DMA);
  });

  it('iommu.forcedac=1: a PCI device takes its first IOVA from the top, not below 4 GiB', () => {
    const L = fresh();
    L.lab.cmdline('iommu.forcedac=1');
    const dev = L.lab.add_device('d', { iommu: L.lab.add_iommu('i', 'arm-smmu-v3') });
    expect(L.dma_map_single(dev, L.lab.mem.alloc(L.SZ_4K), L.SZ_4K, L.DMA_TO_DEVICE)).toBe(2 ** 48 - L.SZ_4K);
  });

  it('refuses an unknown parameter or value by name, and any parameter after hardware exists', () => {
    const L = fresh();
    expect(() => L.lab.cmdline('iommu.sturdy=1')).toThrow(
      "lab.cmdline: unknown parameter 'iommu.sturdy' (the lab knows iommu.strict, iommu.passthrough, iommu.forcedac)",
    );
    expect(() => L.lab.cmdline('iommu.strict=maybe')).toThrow(
      "lab.cmdline: 'iommu.strict=maybe' wants a boolean: iommu.strict=1 or iommu.strict=0 (y/n, on/off)",
    );
    L.lab.add_iommu('i', 'arm-smmu-v3');
    expect(() => L.lab.cmdline('iommu.strict=0')).toThrow(
      'lab.cmdline() must come before any lab.add_iommu/add_device',
    );
  });
});
