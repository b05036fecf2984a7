/**
 * The SMMUv3 hardware model: a stream table (one STE per device), a command queue whose commands
 * act on the IOTLB, and an ASID space. Opcodes are the driver's CMDQ_OP_* values (facts §5.4).
 */
import type { Device } from '../../core/device.ts';
import { DMA_ABORT, DMA_BYPASS, IommuDevice, type WalkOut } from '../../core/iommu-device.ts';
import type { Machine } from '../../core/machine.ts';
import type { IommuDriver } from '../../core/driver.ts';
import type { ArmSmmuDomain } from './domain.ts';
import { WalkResult } from '../../pgtable/types.ts';
import { ev } from './trace-events.ts';

export const CMDQ_OP_CFGI_STE = 0x03;
export const CMDQ_OP_TLBI_NH_ASID = 0x11;
export const CMDQ_OP_TLBI_NH_VA = 0x12;
export const CMDQ_OP_CMD_SYNC = 0x46;

const OP_NAMES: Record<number, string> = {
  [CMDQ_OP_CFGI_STE]: 'CFGI_STE',
  [CMDQ_OP_TLBI_NH_ASID]: 'TLBI_NH_ASID',
  [CMDQ_OP_TLBI_NH_VA]: 'TLBI_NH_VA',
  [CMDQ_OP_CMD_SYNC]: 'CMD_SYNC',
};

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

/** dev_iommu_priv of a device behind an SMMUv3 (struct arm_smmu_master): its stream's STE. */
interface ArmSmmuMaster {
  ste: SteConfig;
}

/** The STE in force for `dev`'s stream: an abort STE until one is written. */
function ste_of(dev: Device): SteConfig {
  return (dev.priv as ArmSmmuMaster | null)?.ste ?? ABORT;
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

  write_ste(dev: Device, config: SteConfig): void {
    const master = dev.priv as ArmSmmuMaster | null;
    if (master) master.ste = config;
    else dev.priv = { ste: config } satisfies ArmSmmuMaster;
    const t = this.machine.trace;
    const asid = config.kind === 's1' ? config.domain.asid : 0;
    t.emit(ev.ste, t.str(this.name), t.str(dev.name), t.str(config.kind), asid);
    this.cmdq_issue(CMDQ_OP_CFGI_STE);
    this.cmd_sync();
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
    if (ste.kind !== 's1' || !ste.domain.pgtbl) return false;
    // An IOVA beyond the table's reach (CD.T0SZ, from ias) is a translation fault like a hole:
    // no table covers it (QEMU's smmu_ptw_64_s1: select_tt finds none).
    out.fault = '';
    return ste.domain.pgtbl.walk(iova, walk) && out.from(walk);
  }
}
