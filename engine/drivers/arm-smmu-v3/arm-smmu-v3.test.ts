/** arm-smmu-v3 behaviour that differs from the other drivers, each with the facts it models. */
import { describe, expect, it } from 'vitest';
import type * as Api from '../../script/iommu-lab.d.ts';
import { createLabModule } from '../../script/module.ts';
import { runScript } from '../../script/run-script.ts';

function lab(kernel: string) {
  const L = createLabModule({ kernel }).exports as unknown as typeof Api;
  const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
  const dev = L.lab.add_device('dev0', { iommu: smmu });
  const domain = (
    kernel === 'v6.16' ? L.iommu_paging_domain_alloc(dev) : L.iommu_domain_alloc(L.lab.bus('pci'))
  ) as Api.IommuDomain;
  expect(L.iommu_attach_device(domain, dev)).toBe(0);
  return { L, dev, domain };
}

describe('arm-smmu-v3 ASIDs and faults', () => {
  it('ASIDs come from one allocator for the system (arm_smmu_asid_xa): two SMMUs never share one', () => {
    const L = createLabModule({}).exports as unknown as typeof Api;
    const asids = ['smmu0', 'smmu1'].map((name) => {
      const smmu = L.lab.add_iommu(name, 'arm-smmu-v3');
      const dev = L.lab.add_device(`${name}-dev`, { iommu: smmu });
      const d = L.iommu_paging_domain_alloc(dev) as Api.IommuDomain;
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(L.iommu_map(d, 0x1000, 0x8000_0000, L.SZ_4K, L.IOMMU_READ)).toBe(0);
      expect(dev.dma_read(0x1000, 4).ok).toBe(true);
      return smmu.tlb.entries()[0].tag;
    });
    expect(new Set(asids).size).toBe(2);
  });

  it('an IOVA at or above 2^ias is a translation fault: no table covers it (QEMU smmu_ptw_64_s1)', () => {
    const { dev } = lab('v6.16');
    const r = dev.dma_read(2 ** 48 + 0x1000, 4);
    expect(r.ok ? null : r.fault.reason).toBe('translation');
  });

  it.each(['v6.6', 'v6.8', 'v6.16'])(
    "%s: with every ASID taken, finalise fails with xa_alloc's -EBUSY (arm_smmu_domain_finalise_s1), after allocating and freeing the table",
    (kernel) => {
      const L = createLabModule({ kernel }).exports as unknown as typeof Api;
      const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3', { asid_bits: 8 });
      const dev = L.lab.add_device('dev0', { iommu: smmu }); // its default domain holds ASID 1
      const held: Api.IommuDomain[] = [];
      const next = (): number => {
        if (kernel === 'v6.16') {
          const d = L.iommu_paging_domain_alloc(dev);
          if (L.IS_ERR(d)) return L.PTR_ERR(d);
          held.push(d as Api.IommuDomain);
          return 0;
        }
        const d = L.iommu_domain_alloc(L.lab.bus('pci'))!;
        const ret = L.iommu_attach_device(d, dev);
        if (!ret) L.iommu_detach_device(d, dev);
        return ret;
      };
      for (let i = 2; i <= 255; i++) expect(next()).toBe(0);
      const before = L.lab.trace().length;
      expect(next()).toBe(-L.EBUSY);
      const names = L.lab
        .trace()
        .slice(before)
        .map((e) => e.name);
      expect(names).toContain('pgtable_alloc_table');
      expect(names).toContain('pgtable_free');
    },
  );
});

/** A leaf's descriptor as little-endian bytes: the leaf at `iova` of a 4K-granule, 48-bit table. */
function leaf_at(L: typeof Api, domain: Api.IommuDomain, iova: number): number {
  const root = L.lab.trace().find((e) => e.name === 'pgtable_alloc_table' && e.domain === domain.id)!;
  let table = root.pa as number;
  for (let level = 0; level < 3; level++) {
    const idx = Math.floor(iova / 2 ** (39 - 9 * level)) % 512;
    const b = L.lab.mem.read(table + idx * 8, 8);
    table = (b[1] & 0xf0) * 0x100 + b[2] * 0x1_0000 + b[3] * 0x100_0000 + b[4] * 2 ** 32 + b[5] * 2 ** 40;
  }
  return table + (Math.floor(iova / 0x1000) % 512) * 8;
}

describe('arm-smmu-v3 walk of a table written by hand', () => {
  it('a leaf with AF clear takes an Access flag fault: Linux sets neither CD.HA nor CD.AFFD (QEMU smmu_ptw_64_s1, SMMU_PTW_ERR_ACCESS)', () => {
    const { L, dev, domain } = lab('v6.16');
    expect(L.iommu_map(domain, 0x10000, 0x8000_0000, L.SZ_4K, L.IOMMU_READ | L.IOMMU_WRITE)).toBe(0);
    const at = leaf_at(L, domain, 0x10000);
    const b = L.lab.mem.read(at, 8);
    b[1] &= ~0x04; // AF is bit 10
    L.lab.mem.write(at, b);
    expect(dev.dma_read(0x10000, 4)).toEqual({
      ok: false,
      fault: { reason: 'access', iova: 0x10000, write: false },
    });
    expect(dev.iommu.tlb.entries()).toEqual([]); // a faulting walk caches nothing
    expect(L.iommu_iova_to_phys(domain, 0x10000)).toBe(0x8000_0000); // the CPU-side walk ignores AF
  });

  it("a leaf whose output address is at or above the CD's IPS (oas) takes an Address Size fault (QEMU smmu_ptw_64_s1, SMMU_PTW_ERR_ADDR_SIZE)", () => {
    const L = createLabModule({}).exports as unknown as typeof Api;
    const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3', { oas: 40 });
    const dev = L.lab.add_device('dev0', { iommu: smmu });
    const domain = L.iommu_paging_domain_alloc(dev) as Api.IommuDomain;
    expect(L.iommu_attach_device(domain, dev)).toBe(0);
    expect(L.iommu_map(domain, 0x20000, 0x8000_0000, L.SZ_4K, L.IOMMU_READ)).toBe(0);
    const at = leaf_at(L, domain, 0x20000);
    const b = L.lab.mem.read(at, 8);
    b[5] |= 0x10; // output address bit 44
    L.lab.mem.write(at, b);
    const r = dev.dma_read(0x20000, 4);
    expect(r.ok ? null : r.fault.reason).toBe('address-size');
    expect(smmu.faults.map((f) => f.reason)).toEqual(['address-size']);
  });
});

describe('arm-smmu-v3 IOMMU_PRIV', () => {
  it('a mapping made with IOMMU_PRIV (AP[1] clear) refuses a device access, from the walk and from the IOTLB: DMA is unprivileged (facts §1.1; Linux leaves STE.PRIVCFG at "use incoming")', () => {
    const { L, dev, domain } = lab('v6.16');
    expect(
      L.iommu_map(domain, 0x1000, 0x8000_0000, L.SZ_4K, L.IOMMU_READ | L.IOMMU_WRITE | L.IOMMU_PRIV),
    ).toBe(0);
    expect(L.iommu_map(domain, 0x2000, 0x8000_1000, L.SZ_4K, L.IOMMU_READ | L.IOMMU_WRITE)).toBe(0);
    const walked = dev.dma_read(0x1000, 4);
    const cached = dev.dma_write(0x1000, [1]);
    expect([walked, cached].map((r) => (r.ok ? r.tlb : r.fault.reason))).toEqual([
      'permission',
      'permission',
    ]);
    expect(dev.dma_read(0x2000, 4)).toMatchObject({ ok: true, pa: 0x8000_1000 });
    expect(L.iommu_iova_to_phys(domain, 0x1000)).toBe(0x8000_0000); // the CPU-side walk has no privilege check
  });

  it('formats without a privilege bit ignore IOMMU_PRIV: the same mapping on intel-iommu is read', () => {
    const L = createLabModule({}).exports as unknown as typeof Api;
    const dev = L.lab.add_device('dev0', { iommu: L.lab.add_iommu('dmar0', 'intel-iommu') });
    const domain = L.iommu_paging_domain_alloc(dev) as Api.IommuDomain;
    expect(L.iommu_attach_device(domain, dev)).toBe(0);
    expect(L.iommu_map(domain, 0x1000, 0x8000_0000, L.SZ_4K, L.IOMMU_READ | L.IOMMU_PRIV)).toBe(0);
    expect(dev.dma_read(0x1000, 4)).toMatchObject({ ok: true, pa: 0x8000_0000 });
  });
});

describe('arm-smmu-v3 abort STE', () => {
  it('an access a blocked stream makes fails, and no event is recorded (STE.Config abort; QEMU smmuv3_translate SMMU_TRANS_ABORT)', () => {
    const L = createLabModule({}).exports as unknown as typeof Api;
    const dev = L.lab.add_device('dev0', { iommu: L.lab.add_iommu('smmu0', 'arm-smmu-v3') });
    expect(L.iommu_device_claim_dma_owner(dev, 'vfio')).toBe(0);
    const r = dev.dma_read(0x1000, 4);
    expect(r).toEqual({ ok: false, fault: { reason: 'ste-abort', iova: 0x1000, write: false } });
    expect(dev.iommu.faults).toEqual([]);
    const names = L.lab.trace().map((e) => e.name);
    expect(names).not.toContain('io_page_fault');
    expect(names).toContain('smmuv3_translate_abort');
  });
});

describe('arm-smmu-v3 quirks', () => {
  it.each(['v6.6', 'v6.8', 'v6.16'])(
    '%s: an identity domain per group before v6.9 (arm_smmu_domain_alloc kzalloc()s one), bound to its SMMU at the first attach; one static identity_domain from v6.9',
    (kernel) => {
      const L = createLabModule({ kernel }).exports as unknown as typeof Api;
      const smmu0 = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
      const smmu1 = L.lab.add_iommu('smmu1', 'arm-smmu-v3');
      const a = L.lab.add_device('a', { iommu: smmu0, default_domain: 'identity' });
      const b = L.lab.add_device('b', { iommu: smmu0, default_domain: 'identity' });
      const c = L.lab.add_device('c', { iommu: smmu1 });
      const da = L.iommu_get_domain_for_dev(a)!;
      const db = L.iommu_get_domain_for_dev(b)!;
      expect([da.type, db.type]).toEqual([L.IOMMU_DOMAIN_IDENTITY, L.IOMMU_DOMAIN_IDENTITY]);
      expect(da === db).toBe(kernel === 'v6.16');
      expect(a.dma_read(0x1000, 4)).toMatchObject({ ok: true, pa: 0x1000 });
      if (kernel === 'v6.16') return;
      expect(da.iommu).toBe(smmu0);
      // arm_smmu_attach_dev: "cannot attach to SMMU smmu1", after detaching c (an abort STE).
      expect(da.ops.attach_dev!(da, c)).toBe(-L.EINVAL);
    },
  );

  it.each(['v6.6', 'v6.8'])(
    '%s: ops.domain_alloc(type) knows UNMANAGED, DMA and IDENTITY; any other type is NULL (arm_smmu_domain_alloc)',
    (kernel) => {
      const L = createLabModule({ kernel }).exports as unknown as typeof Api;
      const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
      const alloc = smmu.ops.domain_alloc!;
      expect(alloc(L.IOMMU_DOMAIN_UNMANAGED)?.type).toBe(L.IOMMU_DOMAIN_UNMANAGED);
      expect(alloc(L.IOMMU_DOMAIN_DMA)?.type).toBe(L.IOMMU_DOMAIN_DMA);
      expect(alloc(L.IOMMU_DOMAIN_IDENTITY)?.type).toBe(L.IOMMU_DOMAIN_IDENTITY);
      expect(alloc(L.IOMMU_DOMAIN_BLOCKED)).toBeNull();
      expect(alloc(99)).toBeNull();
    },
  );

  it.each(['v6.6', 'v6.8', 'v6.16'])(
    '%s: ias 52 is used only with the 64K granule; 4K and 16K cap it at 48: aperture 2^48 - 1, a map at 2^48 -ERANGE (arm_lpae_restrict_pgsizes, facts §5.4)',
    (kernel) => {
      const L = createLabModule({ kernel }).exports as unknown as typeof Api;
      const ends = ([4096, 16384, 65536] as const).map((granule, i) => {
        const smmu = L.lab.add_iommu(`smmu${i}`, 'arm-smmu-v3', { ias: 52, granule });
        const dev = L.lab.add_device(`dev${i}`, { iommu: smmu });
        const d = (
          kernel === 'v6.16' ? L.iommu_paging_domain_alloc(dev) : L.iommu_domain_alloc(L.lab.bus('pci'))
        ) as Api.IommuDomain;
        expect(L.iommu_attach_device(d, dev)).toBe(0);
        const ret = L.iommu_map(d, 2 ** 48, 0x8000_0000, granule, L.IOMMU_READ);
        return [d.geometry.aperture_end, ret];
      });
      expect(ends).toEqual([
        [2 ** 48 - 1, -L.ERANGE],
        [2 ** 48 - 1, -L.ERANGE],
        [2 ** 52 - 1, 0],
      ]);
    },
  );

  it('oas 52 is refused at add_iommu, naming what is accepted: a 52-bit PA (64K granule, PA[51:48] in bits 15:12) is not modelled', () => {
    const L = createLabModule({}).exports as unknown as typeof Api;
    expect(() => L.lab.add_iommu('smmu0', 'arm-smmu-v3', { oas: 52, granule: 65536 })).toThrow(
      "arm-smmu-v3 option 'oas' must be one of 32, 36, 40, 42, 44, 48 (got 52)",
    );
    const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3', { oas: 40 });
    const dev = L.lab.add_device('dev0', { iommu: smmu });
    const d = L.iommu_get_domain_for_dev(dev) as Api.IommuDomain;
    expect(L.iommu_map(d, 0x1000, 2 ** 40, L.SZ_4K, L.IOMMU_READ)).toBe(-L.ERANGE);
  });

  it.each(['v6.6', 'v6.8', 'v6.16'])(
    '%s: a 4K unmap inside a 2M block: split before v6.13, refused from v6.13, partial-unmap-of-large-page either way (facts §2.3)',
    (kernel) => {
      const { L, domain } = lab(kernel);
      expect(L.iommu_map(domain, 0x20_0000, 0x8000_0000, 0x20_0000, 3)).toBe(0);
      expect(L.iommu_unmap(domain, 0x20_1000, L.SZ_4K)).toBe(kernel === 'v6.16' ? 0 : L.SZ_4K);
      const ids = L.lab.checks().map((c) => c.id);
      expect(ids.filter((id) => id !== 'attach-time-finalise')).toEqual(['partial-unmap-of-large-page']);
    },
  );

  it.each([
    ['v6.6', false],
    ['v6.8', false],
    ['v6.16', true],
  ])(
    '%s: a 2M unmap over a 4K table flushes its walk at once; only from v6.12 (85b715a33458) is the table also gathered and invalidated again at sync',
    (kernel, again) => {
      const { L, domain } = lab(kernel);
      expect(L.iommu_map(domain, 0x40_1000, 0x9000_1000, L.SZ_4K, L.IOMMU_READ)).toBe(0);
      const from = L.lab.trace().length;
      expect(L.iommu_unmap(domain, 0x40_0000, L.SZ_2M)).toBe(L.SZ_2M);
      const cmds = L.lab
        .trace()
        .slice(from)
        .filter((e) => e.kind === 'command')
        .map((e) => (e.op ? `${String(e.op)} ${String(e.count)}x${Number(e.stride).toString(16)}` : e.name));
      const walk = ['TLBI_NH_VA 512x1000', 'smmuv3_cmd_sync'];
      expect(cmds).toEqual(again ? [...walk, 'TLBI_NH_VA 1x200000', 'smmuv3_cmd_sync'] : walk);
    },
  );

  it('a prot with neither READ nor WRITE is -EINVAL in v6.16 (facts §1.1)', () => {
    const { L, domain } = lab('v6.16');
    expect(L.iommu_map(domain, 0x10_0000, 0x8000_0000, 0x1000, L.IOMMU_CACHE)).toBe(-L.EINVAL);
    expect(L.iommu_iova_to_phys(domain, 0x10_0000)).toBe(0);
  });

  it.each(['v6.6', 'v6.8', 'v6.16'])(
    '%s: a map over a mapped page is -EEXIST with a WARN (the map-over-existing check), and the old mapping stays (facts §2.5)',
    (kernel) => {
      const { L, domain } = lab(kernel);
      expect(L.iommu_map(domain, 0x10_0000, 0x8000_0000, 0x2000, L.IOMMU_READ)).toBe(0);
      // The second page is taken, the first is new: the core unmaps the first again (rollback).
      expect(L.iommu_map(domain, 0x0f_f000, 0x9000_0000, 0x2000, L.IOMMU_READ)).toBe(-L.EEXIST);
      expect(L.iommu_iova_to_phys(domain, 0x0f_f000)).toBe(0);
      expect(L.iommu_iova_to_phys(domain, 0x10_0000)).toBe(0x8000_0000);
      const checks = L.lab.checks().filter((c) => c.id === 'map-over-existing');
      expect(checks).toHaveLength(1);
      expect(checks[0].message).toMatch(
        /arm-smmu-v3 map_pages of \[0xff000, \+0x2000\) on domain \d+ found a mapping in the way \(-EEXIST\)/,
      );
    },
  );

  it.each(['v6.6', 'v6.8'])(
    'in %s io-pgtable-arm maps nothing and returns 0 for it, so __iommu_map would loop forever: the script is stopped, saying why (facts §1.1, §2.1)',
    (kernel) => {
      const { L, domain } = lab(kernel);
      expect(() => L.iommu_map(domain, 0x10_0000, 0x8000_0000, 0x1000, 0)).toThrow(
        /iommu_map never returns: arm-smmu-v3 map_pages\(0x100000, pgsize 0x1000, count 1, prot 0x0\) returned 0 and mapped nothing/,
      );
      expect(() => L.iommu_map_sg(domain, 0x10_0000, [{ paddr: 0x8000_0000, length: 0x2000 }], 0)).toThrow(
        /never returns/,
      );
      // A script that does it ends with an error at its line, instead of hanging the run.
      const r = runScript({
        fileName: 'prot0.ts',
        kernel,
        fixedKernel: true,
        source: [
          "import { lab, iommu_domain_alloc, iommu_attach_device, iommu_map } from 'iommu-lab';",
          "const dev = lab.add_device('dev0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });",
          "const d = iommu_domain_alloc(lab.bus('pci'))!;",
          'iommu_attach_device(d, dev);',
          'iommu_map(d, 0x100000, 0x80000000, 0x1000, 0);',
        ].join('\n'),
      });
      expect(r.status).toBe('error');
      expect(r.error?.message).toMatch(/the kernel hangs here/);
      expect(r.error?.line).toBe(5);
    },
  );
});

describe('arm-smmu-v3 IOTLB entries re-read after a map', () => {
  // SCRIPT-API: 'stale' means the entry used no longer matches what the table holds now.
  it('unmap_fast without a sync, then the same pa and prot mapped back: the entry matches again, a clean hit', () => {
    const { L, dev, domain } = lab('v6.16');
    expect(L.iommu_map(domain, 0x10_0000, 0x8000_0000, L.SZ_4K, 3)).toBe(0);
    expect(dev.dma_read(0x10_0000, 1)).toMatchObject({ ok: true, tlb: 'miss' });
    const gather = L.iommu_iotlb_gather_init();
    expect(L.iommu_unmap_fast(domain, 0x10_0000, L.SZ_4K, gather)).toBe(L.SZ_4K);
    expect(dev.dma_read(0x10_0000, 1)).toMatchObject({ ok: true, tlb: 'stale' });
    expect(L.iommu_map(domain, 0x10_0000, 0x8000_0000, L.SZ_4K, 3)).toBe(0);
    expect(dev.dma_read(0x10_0000, 1)).toMatchObject({ ok: true, tlb: 'hit', pa: 0x8000_0000 });
    // Mapped back read-only: another translation, stale until the TLBI.
    L.iommu_unmap_fast(domain, 0x10_0000, L.SZ_4K, gather);
    expect(L.iommu_map(domain, 0x10_0000, 0x8000_0000, L.SZ_4K, L.IOMMU_READ)).toBe(0);
    expect(dev.dma_read(0x10_0000, 1)).toMatchObject({ ok: true, tlb: 'stale' });
    L.iommu_iotlb_sync(domain, gather);
    expect(dev.dma_read(0x10_0000, 1)).toMatchObject({ ok: true, tlb: 'miss' });
  });
});
