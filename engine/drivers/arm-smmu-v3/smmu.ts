/**
 * The SMMUv3 hardware model: a stream table (one STE per device), context descriptors, a command
 * queue whose commands act on the IOTLB, and an ASID space. Opcodes are the driver's CMDQ_OP_*
 * values (facts §5.4).
 *
 * How the driver writes STEs and CDs, and so which configuration commands it queues, changed
 * twice in the lab's eras:
 *  - v6.6: the CD table belongs to the domain and its CD is written once, at finalise; an attach
 *    first detaches (an abort STE), then arm_smmu_write_strtab_ent writes the new STE.
 *  - v6.7 ("iommu/arm-smmu-v3: Move CD table to arm_smmu_master", 10e4968cd511): the CD table
 *    belongs to the master; attach writes its CD (arm_smmu_write_ctx_desc) and detach clears it.
 *  - v6.9/v6.10 (the "entry writer": "Make STE programming independent of the callers", "Make CD
 *    programming use arm_smmu_write_entry()", 78a5fbe8395b): STE and CD move to their target in as
 *    few synced steps as the words that change allow (entries.ts), with no detach first.
 */
import type { Device } from '../../core/device.ts';
import { PagingDomain, type IommuDomain } from '../../core/domain.ts';
import { DMA_ABORT, DMA_BYPASS, IommuDevice, type WalkOut } from '../../core/iommu-device.ts';
import type { Machine } from '../../core/machine.ts';
import type { IommuDriver } from '../../core/driver.ts';
import type { ArmSmmuDomain } from './domain.ts';
import { WalkResult } from '../../pgtable/types.ts';
import {
  abort_ste,
  bypass_ste,
  cd_asid,
  cd_used,
  cd_valid,
  cdtable_ste,
  s1_cd,
  ste_used,
  with_asid,
  with_word,
  with_words_after_0,
  write_entry,
  zero_entry,
  type Entry,
} from './entries.ts';
import { LEAF_AF_CLEAR } from './s1-walk.ts';
import { ev } from './trace-events.ts';

export const CMDQ_OP_PREFETCH_CFG = 0x01;
export const CMDQ_OP_CFGI_STE = 0x03;
export const CMDQ_OP_CFGI_CD = 0x05;
export const CMDQ_OP_TLBI_NH_ASID = 0x11;
export const CMDQ_OP_TLBI_NH_VA = 0x12;
export const CMDQ_OP_CMD_SYNC = 0x46;

const OP_NAMES: Record<number, string> = {
  [CMDQ_OP_PREFETCH_CFG]: 'PREFETCH_CFG',
  [CMDQ_OP_CFGI_STE]: 'CFGI_STE',
  [CMDQ_OP_CFGI_CD]: 'CFGI_CD',
  [CMDQ_OP_TLBI_NH_ASID]: 'TLBI_NH_ASID',
  [CMDQ_OP_TLBI_NH_VA]: 'TLBI_NH_VA',
  [CMDQ_OP_CMD_SYNC]: 'CMD_SYNC',
};

/** v6.7: the master owns the CD table (10e4968cd511). */
export function cd_table_per_master(m: Machine): boolean {
  return m.profile.has('arm_smmu_v3_master_cd_table');
}
/** The entry writer: STEs from v6.9, CDs from v6.10, which the lab's eras (v6.8, v6.16) do not tell apart. */
export function entry_writer(m: Machine): boolean {
  return m.profile.has('arm_smmu_v3_entry_writer');
}

export interface ArmSmmuV3Options {
  ias: number;
  oas: number;
  granule: number;
  tlb_entries: number;
  asid_bits: number;
}

/** STE.Config as the lab models it: abort, bypass, or stage-1 translation with a context (ASID). */
export type SteConfig = { kind: 'abort' } | { kind: 'bypass' } | { kind: 's1'; domain: ArmSmmuDomain };

const walk = new WalkResult();
const ABORT: SteConfig = Object.freeze({ kind: 'abort' });

/** dev_iommu_priv of a device behind an SMMUv3 (struct arm_smmu_master). */
interface ArmSmmuMaster {
  /** What its stream's STE does now. */
  ste: SteConfig;
  /** The STE's words, as the entry writer (v6.9+) compares them. */
  ste_words: Entry;
  /** master->domain before v6.9: what arm_smmu_detach_dev takes the device off first. */
  domain: IommuDomain | null;
  /** master->cd_table (v6.7+): its one CD (SSID 0), or null until a stage-1 attach allocates it. */
  cd: Entry | null;
  /** Where the CD table would be (STE.S1ContextPtr): the lab allocates no memory for it. */
  cdtab: bigint;
}

/** The STE in force for `dev`'s stream: an abort STE until one is written. */
function ste_of(dev: Device): SteConfig {
  return (dev.priv as ArmSmmuMaster | null)?.ste ?? ABORT;
}

/** The stage-1 context a domain's CD holds: T0SZ and IPS from the table's (capped) sizes, as the TCR io-pgtable computes. */
function context(domain: ArmSmmuDomain, smmu: ArmSmmuV3) {
  return {
    asid: domain.asid,
    ttb: domain.pgtbl?.root ?? 0,
    ias: domain.pgtbl?.cfg.ias ?? smmu.cfg.ias,
    oas: domain.pgtbl?.cfg.oas ?? smmu.cfg.oas,
    granule: smmu.cfg.granule,
  };
}

export class ArmSmmuV3 extends IommuDevice {
  readonly asids_in_use = new Set<number>();
  /** Page sizes this instance supports with its granule (IDR5 filtered to one granule). */
  readonly pgsize_bitmap: number;
  /** Commands issued since the last CMD_SYNC (for the "unsynced commands" view). */
  pending_cmds = 0;

  constructor(
    machine: Machine,
    name: string,
    driver: IommuDriver,
    readonly cfg: ArmSmmuV3Options,
  ) {
    super(machine, name, driver, cfg.tlb_entries);
    // 4K granule: 4K|2M|1G; 16K: 16K|32M; 64K: 64K|512M (facts §5.4).
    this.pgsize_bitmap =
      cfg.granule === 4096
        ? 0x1000 + 0x200000 + 0x40000000
        : cfg.granule === 16384
          ? 0x4000 + 0x2000000
          : 0x10000 + 0x20000000;
  }

  /**
   * ASIDs come from one allocator for the whole system (arm_smmu_asid_xa), from 1 upward (0 is
   * left to the kernel's own use) up to this instance's asid_bits: two SMMUs never share one.
   */
  alloc_asid(): number {
    const max = 2 ** this.cfg.asid_bits - 1;
    const smmus = this.machine.iommus.filter((i): i is ArmSmmuV3 => i instanceof ArmSmmuV3);
    for (let a = 1; a <= max; a++) {
      if (!smmus.some((smmu) => smmu.asids_in_use.has(a))) {
        this.asids_in_use.add(a);
        return a;
      }
    }
    return 0;
  }

  free_asid(asid: number): void {
    this.asids_in_use.delete(asid);
  }

  /** Queue a command (or a batch of `count` with addresses `stride` apart) and apply it to the IOTLB. */
  cmdq_issue(op: number, asid = 0, addr = 0, count = 1, stride = 0): void {
    const t = this.machine.trace;
    t.emit(ev.cmdq, t.str(this.name), t.str(OP_NAMES[op]), asid, addr, count, stride);
    this.pending_cmds += count;
    if (op === CMDQ_OP_TLBI_NH_ASID) this.tlb.invalidate_tag(asid);
    else if (op === CMDQ_OP_TLBI_NH_VA) this.tlb.invalidate_range(asid, addr, count * stride);
  }

  cmd_sync(): void {
    const t = this.machine.trace;
    t.emit(ev.cmd_sync, t.str(this.name));
    this.pending_cmds = 0;
  }

  /** The device's arm_smmu_master, made at its first configuration write. */
  private master(dev: Device): ArmSmmuMaster {
    let master = dev.priv as ArmSmmuMaster | null;
    if (!master) {
      // Every stream starts with an abort STE (arm_smmu_init_bypass_stes with disable_bypass,
      // arm_smmu_init_initial_stes from v6.9), written before the table is live: no command.
      master = {
        ste: ABORT,
        ste_words: abort_ste(),
        domain: null,
        cd: null,
        cdtab: BigInt(this.machine.devices.indexOf(dev) + 1) << 12n,
      };
      dev.priv = master;
    }
    return master;
  }

  /** arm_smmu_sync_ste_for_sid: CFGI_STE for the stream, then CMD_SYNC. */
  private sync_ste(): void {
    this.cmdq_issue(CMDQ_OP_CFGI_STE);
    this.cmd_sync();
  }

  /**
   * arm_smmu_sync_cd: CFGI_CD for each stream of `devs` in one batch, submitted with CMD_SYNC. A
   * batch with no commands still ends in its CMD_SYNC (v6.6 writes a domain's CD before any master
   * is on its list).
   */
  private sync_cd(devs: readonly Device[]): void {
    if (devs.length) this.cmdq_issue(CMDQ_OP_CFGI_CD, 0, 0, devs.length);
    this.cmd_sync();
  }

  /** "It's likely that we'll want to use the new STE soon": PREFETCH_CFG, with no CMD_SYNC. */
  private prefetch_cfg(): void {
    this.cmdq_issue(CMDQ_OP_PREFETCH_CFG);
  }

  private trace_ste(dev: Device, config: SteConfig, steps: number): void {
    const t = this.machine.trace;
    const asid = config.kind === 's1' ? config.domain.asid : 0;
    t.emit(ev.ste, t.str(this.name), t.str(dev.name), t.str(config.kind), asid, steps);
  }

  private trace_cd(dev: Device | null, domain: ArmSmmuDomain | null, asid: number, steps: number): void {
    const t = this.machine.trace;
    t.emit(ev.cd, t.str(this.name), domain?.id ?? 0, t.str(dev?.name ?? ''), asid, steps);
  }

  // ── v6.6–v6.8 ──

  /**
   * arm_smmu_write_strtab_ent: bypass or abort is one write and one sync; stage 1 (onto an STE
   * that is not live: the attach detached first) writes the words after the first, syncs, writes
   * word 0, syncs, and asks the SMMU to prefetch the new entry.
   */
  write_strtab_ent(dev: Device, config: SteConfig): void {
    const master = this.master(dev);
    this.trace_ste(dev, config, config.kind === 's1' ? 2 : 1);
    if (config.kind !== 's1') {
      master.ste = config;
      this.sync_ste();
      return;
    }
    this.sync_ste();
    master.ste = config;
    this.sync_ste();
    this.prefetch_cfg();
  }

  /**
   * arm_smmu_detach_dev: off the old domain onto an abort STE (disable_bypass), and from v6.7 the
   * master's CD cleared when that domain was a stage-1 one.
   */
  detach_dev(dev: Device): void {
    const master = this.master(dev);
    const old = master.domain;
    if (!old) return;
    master.domain = null;
    this.write_strtab_ent(dev, ABORT);
    if (cd_table_per_master(this.machine) && old instanceof PagingDomain && master.cd)
      this.write_ctx_desc(dev, null);
  }

  /**
   * The rest of a v6.6–v6.8 arm_smmu_attach_dev, once detached and finalised. A domain without a
   * table is the identity one (stage BYPASS): its STE is `kind`, with no CD.
   */
  attach_legacy(dev: Device, domain: IommuDomain, kind: 'bypass' | 'abort' = 'bypass'): void {
    const master = this.master(dev);
    master.domain = domain;
    if (!(domain instanceof PagingDomain)) {
      this.write_strtab_ent(dev, { kind });
      return;
    }
    const s1 = domain as ArmSmmuDomain;
    if (cd_table_per_master(this.machine)) {
      master.cd ??= zero_entry(); // arm_smmu_alloc_cd_tables: linear, nothing to sync
      this.write_ctx_desc(dev, s1);
    }
    this.write_strtab_ent(dev, { kind: 's1', domain: s1 });
  }

  /**
   * v6.7–v6.8 arm_smmu_write_ctx_desc on the master's CD 0: clearing it (NULL) writes word 0 and
   * syncs; a live CD gets only the new ASID in word 0, and a sync; else words 1–3, sync, word 0
   * with V, sync. Each sync is CFGI_CD for the master's streams + CMD_SYNC.
   */
  write_ctx_desc(dev: Device, domain: ArmSmmuDomain | null): void {
    const master = this.master(dev);
    const cd = master.cd ?? zero_entry();
    if (!domain) {
      this.trace_cd(dev, null, 0, 1);
      master.cd = with_word(cd, 0, 0n);
      this.sync_cd([dev]);
    } else if (cd_valid(cd)) {
      this.trace_cd(dev, domain, domain.asid, 1);
      master.cd = with_asid(cd, domain.asid);
      this.sync_cd([dev]);
    } else {
      const target = s1_cd(context(domain, this));
      this.trace_cd(dev, domain, domain.asid, 2);
      master.cd = with_words_after_0(cd, target);
      this.sync_cd([dev]);
      master.cd = with_word(master.cd, 0, target[0]);
      this.sync_cd([dev]);
    }
  }

  /**
   * v6.6 arm_smmu_domain_finalise_s1: the domain's own CD, written as arm_smmu_write_ctx_desc's
   * case (1), each sync a batch of CFGI_CD for the masters on the domain's list: none yet at
   * finalise, so each is a CMD_SYNC alone.
   */
  write_domain_cd(domain: ArmSmmuDomain): void {
    const target = s1_cd(context(domain, this));
    this.trace_cd(null, domain, domain.asid, 2);
    domain.cd = with_words_after_0(zero_entry(), target);
    this.sync_cd(domain.devices);
    domain.cd = target;
    this.sync_cd(domain.devices);
  }

  // ── v6.9+: the entry writer ──

  /**
   * arm_smmu_write_ste: the STE moves to its target through arm_smmu_write_entry, each step
   * CFGI_STE + CMD_SYNC (none when nothing changes), then PREFETCH_CFG whatever changed.
   */
  write_ste(dev: Device, config: SteConfig): void {
    const master = this.master(dev);
    const target =
      config.kind === 's1'
        ? cdtable_ste(master.cdtab)
        : config.kind === 'bypass'
          ? bypass_ste()
          : abort_ste();
    const { entry, steps } = write_entry(master.ste_words, target, ste_used);
    this.trace_ste(dev, config, steps);
    for (let i = 0; i < steps; i++) this.sync_ste();
    master.ste_words = entry;
    master.ste = config;
    this.prefetch_cfg();
  }

  /** arm_smmu_write_cd_entry on CD 0, each step synced by arm_smmu_sync_cd (CFGI_CD + CMD_SYNC). */
  private write_cd_entry(dev: Device, target: Entry, domain: ArmSmmuDomain | null): void {
    const master = this.master(dev);
    const cd = master.cd ?? zero_entry(); // arm_smmu_alloc_cd_ptr: a linear table, no sync
    const { entry, steps } = write_entry(cd, target, cd_used);
    this.trace_cd(dev, domain, cd_asid(target), steps);
    for (let i = 0; i < steps; i++) this.sync_cd([dev]);
    master.cd = entry;
  }

  /**
   * arm_smmu_attach_dev for a stage-1 domain: the CD table allocated on first use (linear, no
   * sync), the domain's CD written (arm_smmu_make_s1_cd), then the STE pointed at the CD table
   * (arm_smmu_make_cdtable_ste), which an earlier stage-1 attach has already done.
   */
  attach_s1(dev: Device, domain: ArmSmmuDomain): void {
    this.write_cd_entry(dev, s1_cd(context(domain, this)), domain);
    this.write_ste(dev, { kind: 's1', domain });
  }

  /**
   * arm_smmu_attach_dev_ste (identity, blocked): the bypass or abort STE, then the CD cleared
   * (arm_smmu_clear_cd) if the master has a CD table.
   */
  attach_ste(dev: Device, kind: 'bypass' | 'abort'): void {
    this.write_ste(dev, { kind });
    if (this.master(dev).cd) this.write_cd_entry(dev, zero_entry(), null);
  }

  override dma_tag(dev: Device): number {
    const ste = ste_of(dev);
    if (ste.kind === 'bypass') return DMA_BYPASS;
    if (ste.kind === 'abort') return DMA_ABORT;
    return ste.domain.asid;
  }

  override dma_abort_reason(): string {
    return 'ste-abort';
  }

  /**
   * STE.Config abort terminates the access without recording an event (SMMUv3 spec, STE.Config;
   * QEMU smmuv3_translate, case SMMU_TRANS_ABORT: "no event is recorded on abort").
   */
  override dma_abort_recorded(dev: Device, iova: number, write: boolean): boolean {
    const t = this.machine.trace;
    t.emit(ev.translate_abort, t.str(this.name), t.str(dev.name), iova, write ? 1 : 0);
    return false;
  }

  override dma_walk(dev: Device, iova: number, out: WalkOut): boolean {
    const ste = ste_of(dev);
    const pgtbl = ste.kind === 's1' ? ste.domain.pgtbl : null;
    if (!pgtbl) return false;
    // An IOVA beyond the table's reach (CD.T0SZ, from ias) is a translation fault like a hole:
    // no table covers it (QEMU's smmu_ptw_64_s1: select_tt finds none).
    out.fault = '';
    if (!pgtbl.walk(iova, walk)) return false;
    // A leaf's output address at or above the CD's IPS: F_ADDR_SIZE, found by the walk before the
    // Access flag and permission checks (QEMU smmu_ptw_64_s1, SMMU_PTW_ERR_ADDR_SIZE).
    if (walk.pa_base >= pgtbl.oas_size) {
      out.fault = 'address-size';
      return false;
    }
    // AF clear with CD.HA and CD.AFFD clear: F_ACCESS (s1-walk.ts).
    if (walk.prot & LEAF_AF_CLEAR) {
      out.fault = 'access';
      return false;
    }
    return out.from(walk);
  }
}
