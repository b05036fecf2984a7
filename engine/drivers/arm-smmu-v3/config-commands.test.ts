/**
 * The configuration commands an attach queues, per kernel era: which structure the driver writes
 * (STE, CD), in how many synced steps, and the PREFETCH_CFG after a stage-1 STE.
 */
import { describe, expect, it } from 'vitest';
import type * as Api from '../../script/iommu-lab.d.ts';
import { createLabModule } from '../../script/module.ts';
import {
  abort_ste,
  bypass_ste,
  cd_used,
  cdtable_ste,
  s1_cd,
  ste_used,
  write_entry,
  zero_entry,
} from './entries.ts';

type Lab = typeof Api;

function setup(kernel: string, device: { default_domain?: 'identity' } = {}) {
  const L = createLabModule({ kernel }).exports as unknown as Lab;
  const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
  const from = L.lab.trace().length;
  const dev = L.lab.add_device('dev0', { iommu: smmu, ...device });
  const probe = commands(L, from);
  const alloc = () =>
    (kernel === 'v6.16'
      ? L.iommu_paging_domain_alloc(dev)
      : L.iommu_domain_alloc(L.lab.bus('pci'))) as Api.IommuDomain;
  /** The commands `fn` queues, as `ste:<config>` / `cd:<asid>` (the write) and the opcodes after it. */
  const during = (fn: () => void): string[] => {
    const n = L.lab.trace().length;
    fn();
    return commands(L, n);
  };
  return { L, dev, probe, alloc, during };
}

function commands(L: Lab, from: number): string[] {
  return L.lab
    .trace()
    .slice(from)
    .filter((e) => e.kind === 'command')
    .map((e) =>
      e.name === 'smmuv3_write_ste'
        ? `ste:${String(e.config)}`
        : e.name === 'smmuv3_write_cd'
          ? `cd:${String(e.asid)}`
          : e.name === 'smmuv3_cmd_sync'
            ? 'CMD_SYNC'
            : String(e.op),
    );
}

const CFGI_STE = ['CFGI_STE', 'CMD_SYNC'];
const CFGI_CD = ['CFGI_CD', 'CMD_SYNC'];
const steps = (n: number, step: string[]) => Array.from({ length: n }, () => step).flat();

describe('arm-smmu-v3 attach commands, v6.16 (the entry writer)', () => {
  it('the probe attaches the default domain: its CD (arm_smmu_make_s1_cd + arm_smmu_write_cd_entry, invalid to valid: 2 steps of CFGI_CD + CMD_SYNC), then the cd-table STE over the abort one (arm_smmu_write_ste: 2 steps of CFGI_STE + CMD_SYNC) and PREFETCH_CFG', () => {
    const { probe } = setup('v6.16');
    expect(probe).toEqual(['cd:1', ...steps(2, CFGI_CD), 'ste:s1', ...steps(2, CFGI_STE), 'PREFETCH_CFG']);
  });

  it('S1 → S1 changes ASID and TTB0 in a live CD: a disruptive arm_smmu_write_entry (V=0, words 1.., word 0), 3 × CFGI_CD + CMD_SYNC; the STE is already the cd-table one, so no CFGI_STE, but arm_smmu_write_ste still sends PREFETCH_CFG', () => {
    const { L, dev, alloc, during } = setup('v6.16');
    const d = alloc();
    const switch_ = ['cd:2', ...steps(3, CFGI_CD), 'ste:s1', 'PREFETCH_CFG'];
    expect(during(() => expect(L.iommu_attach_device(d, dev)).toBe(0))).toEqual(switch_);
    const steps_of = L.lab
      .trace()
      .filter((e) => e.name === 'smmuv3_write_ste')
      .map((e) => e.steps);
    expect(steps_of.at(-1)).toBe(0);
    // Back to the default domain (ASID 1) the same way.
    expect(during(() => L.iommu_detach_device(d, dev))).toEqual([
      'cd:1',
      ...steps(3, CFGI_CD),
      'ste:s1',
      'PREFETCH_CFG',
    ]);
  });

  it('blocked (arm_smmu_attach_dev_blocked → arm_smmu_attach_dev_ste): the abort STE over the cd-table one in 2 steps and PREFETCH_CFG, then arm_smmu_clear_cd in 2 steps; back to S1: CD and STE in 2 steps each', () => {
    const { L, dev, during } = setup('v6.16');
    expect(during(() => expect(L.iommu_device_claim_dma_owner(dev, 'vfio')).toBe(0))).toEqual([
      'ste:abort',
      ...steps(2, CFGI_STE),
      'PREFETCH_CFG',
      'cd:0',
      ...steps(2, CFGI_CD),
    ]);
    expect(during(() => L.iommu_device_release_dma_owner(dev))).toEqual([
      'cd:1',
      ...steps(2, CFGI_CD),
      'ste:s1',
      ...steps(2, CFGI_STE),
      'PREFETCH_CFG',
    ]);
  });

  it('identity (arm_smmu_attach_dev_identity): abort → bypass is one step (no SHCFG without IDR1.ATTR_TYPES_OVR) and PREFETCH_CFG, no CD table to clear; from identity to blocked, arm_smmu_clear_cd finds the CD already invalid: no CFGI_CD', () => {
    const { L, dev, probe, during } = setup('v6.16', { default_domain: 'identity' });
    expect(probe).toEqual(['ste:bypass', ...CFGI_STE, 'PREFETCH_CFG']);
    const d = L.iommu_paging_domain_alloc(dev) as Api.IommuDomain;
    expect(L.iommu_attach_device(d, dev)).toBe(0);
    expect(during(() => L.iommu_detach_device(d, dev))).toEqual([
      'ste:bypass',
      ...steps(2, CFGI_STE),
      'PREFETCH_CFG',
      'cd:0',
      ...steps(2, CFGI_CD),
    ]);
    expect(during(() => L.iommu_device_claim_dma_owner(dev, 'vfio'))).toEqual([
      'ste:abort',
      ...CFGI_STE,
      'PREFETCH_CFG',
      'cd:0',
    ]);
  });
});

describe('arm-smmu-v3 attach commands, v6.8 (the master owns the CD table)', () => {
  it('the probe: arm_smmu_write_ctx_desc writes words 1–3, CFGI_CD + CMD_SYNC, word 0, CFGI_CD + CMD_SYNC; arm_smmu_write_strtab_ent writes words 1.., CFGI_STE + CMD_SYNC, word 0, CFGI_STE + CMD_SYNC, then PREFETCH_CFG', () => {
    const { probe } = setup('v6.8');
    expect(probe).toEqual(['cd:1', ...steps(2, CFGI_CD), 'ste:s1', ...steps(2, CFGI_STE), 'PREFETCH_CFG']);
  });

  it('S1 → S1: arm_smmu_detach_dev first (abort STE, CFGI_STE + CMD_SYNC; the CD cleared, CFGI_CD + CMD_SYNC), then the new CD and STE as at the probe; detach back to the default domain the same', () => {
    const { L, dev, alloc, during } = setup('v6.8');
    const d = alloc();
    const back = (asid: number) => [
      'ste:abort',
      ...CFGI_STE,
      'cd:0',
      ...CFGI_CD,
      `cd:${asid}`,
      ...steps(2, CFGI_CD),
      'ste:s1',
      ...steps(2, CFGI_STE),
      'PREFETCH_CFG',
    ];
    expect(during(() => expect(L.iommu_attach_device(d, dev)).toBe(0))).toEqual(back(2));
    expect(during(() => L.iommu_detach_device(d, dev))).toEqual(back(1));
  });

  it('identity (a stage-BYPASS arm_smmu_domain): arm_smmu_write_strtab_ent writes the bypass STE in one step, with no PREFETCH_CFG', () => {
    const { probe } = setup('v6.8', { default_domain: 'identity' });
    expect(probe).toEqual(['ste:bypass', ...CFGI_STE]);
  });

  it("an attach that fails (-EINVAL: another SMMU's domain) has detached the device already (arm_smmu_detach_dev comes first); the core puts the old domain back", () => {
    const { L, dev, during } = setup('v6.8');
    const other = L.lab.add_iommu('smmu1', 'arm-smmu-v3');
    const dev1 = L.lab.add_device('dev1', { iommu: other });
    const d = L.iommu_domain_alloc(L.lab.bus('pci')) as Api.IommuDomain;
    expect(L.iommu_attach_device(d, dev1)).toBe(0);
    expect(during(() => expect(L.iommu_attach_device(d, dev)).toBe(-L.EINVAL))).toEqual([
      'ste:abort',
      ...CFGI_STE,
      'cd:0',
      ...CFGI_CD,
      'cd:1',
      ...steps(2, CFGI_CD),
      'ste:s1',
      ...steps(2, CFGI_STE),
      'PREFETCH_CFG',
    ]);
    expect(dev.dma_read(0x1000, 4)).toMatchObject({ ok: false, fault: { reason: 'translation' } });
  });
});

describe('arm-smmu-v3 attach commands, v6.6 (the domain owns the CD table)', () => {
  it("the probe: arm_smmu_domain_finalise_s1 writes the domain's CD before any master is on its list, so each arm_smmu_sync_cd is a CMD_SYNC alone; then arm_smmu_write_strtab_ent, 2 × CFGI_STE + CMD_SYNC and PREFETCH_CFG", () => {
    const { probe } = setup('v6.6');
    expect(probe).toEqual(['cd:1', 'CMD_SYNC', 'CMD_SYNC', 'ste:s1', ...steps(2, CFGI_STE), 'PREFETCH_CFG']);
  });

  it('S1 → S1: arm_smmu_attach_dev detaches first (abort STE), finalises the new domain (its CD, 2 lone CMD_SYNCs), writes the STE; detach back to the finalised default domain has no CD write', () => {
    const { L, dev, alloc, during } = setup('v6.6');
    const d = alloc();
    const ste = ['ste:s1', ...steps(2, CFGI_STE), 'PREFETCH_CFG'];
    expect(during(() => expect(L.iommu_attach_device(d, dev)).toBe(0))).toEqual([
      'ste:abort',
      ...CFGI_STE,
      'cd:2',
      'CMD_SYNC',
      'CMD_SYNC',
      ...ste,
    ]);
    expect(during(() => L.iommu_detach_device(d, dev))).toEqual(['ste:abort', ...CFGI_STE, ...ste]);
  });

  it.each(['v6.6', 'v6.8', 'v6.16'])(
    '%s: the configuration commands leave the IOTLB and the unmap invalidations as they were (TLBI_NH_VA per granule + CMD_SYNC)',
    (kernel) => {
      const { L, dev, alloc, during } = setup(kernel);
      const d = alloc();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(L.iommu_map(d, 0x10_0000, 0x8000_0000, 0x2000, L.IOMMU_READ)).toBe(0);
      expect(dev.dma_read(0x10_0000, 4).ok).toBe(true);
      expect(during(() => L.iommu_unmap(d, 0x10_0000, 0x2000))).toEqual(['TLBI_NH_VA', 'CMD_SYNC']);
      expect(dev.iommu.tlb.entries()).toEqual([]);
    },
  );
});

describe('arm_smmu_write_entry (entries.ts)', () => {
  const ctx = { asid: 1, ttb: 0x4000_0000, ias: 48, oas: 48, granule: 4096 };

  it('an invalid CD made valid is hitless: words 1 and 3 first, then word 0 — 2 steps; clearing a valid CD is 2 steps too (word 0, then the rest)', () => {
    const cd = s1_cd(ctx);
    expect(write_entry(zero_entry(), cd, cd_used).steps).toBe(2);
    expect(write_entry(cd, zero_entry(), cd_used).steps).toBe(2);
  });

  it('a live CD with only a new ASID is hitless in one step; a new ASID and TTB0 is disruptive: 3 steps, V cleared first', () => {
    const cd = s1_cd(ctx);
    expect(write_entry(cd, s1_cd({ ...ctx, asid: 2 }), cd_used).steps).toBe(1);
    const target = s1_cd({ ...ctx, asid: 2, ttb: 0x5000_0000 });
    const written = write_entry(cd, target, cd_used);
    expect(written.entry).toEqual(target);
    expect(written.steps).toBe(3);
  });

  it('STEs: abort ↔ bypass 1 step, abort/bypass → cd-table 2 (word 1, then word 0), cd-table → abort/bypass 2 (word 0, then word 1 cleared), unchanged 0', () => {
    const table = cdtable_ste(0x1000n);
    expect(write_entry(abort_ste(), bypass_ste(), ste_used).steps).toBe(1);
    expect(write_entry(bypass_ste(), abort_ste(), ste_used).steps).toBe(1);
    expect(write_entry(abort_ste(), table, ste_used).steps).toBe(2);
    expect(write_entry(bypass_ste(), table, ste_used).steps).toBe(2);
    expect(write_entry(table, abort_ste(), ste_used).steps).toBe(2);
    expect(write_entry(table, bypass_ste(), ste_used).steps).toBe(2);
    expect(write_entry(table, table, ste_used).steps).toBe(0);
  });
});
