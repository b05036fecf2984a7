/** arm-smmu-v3 events, named after the driver's command opcodes (CMDQ_OP_*) and QEMU's smmuv3 trace-events. */
import { defineEvent } from '../../trace/events.ts';

export const ev = {
  /** One command, or a batch of `count` commands of the same opcode stepping by `stride` from `addr`. */
  cmdq: defineEvent('smmuv3_cmdq_insert', 'command', [
    'smmu:s',
    'op:s',
    'asid:u',
    'addr:x',
    'count:u',
    'stride:x',
  ]),
  cmd_sync: defineEvent('smmuv3_cmd_sync', 'command', ['smmu:s']),
  /**
   * The driver writes a device's STE (arm_smmu_write_strtab_ent, arm_smmu_write_ste): `config`
   * abort, bypass or s1, and the CFGI_STE + CMD_SYNC steps the write takes (0: nothing changed).
   */
  ste: defineEvent('smmuv3_write_ste', 'command', ['smmu:s', 'device:s', 'config:s', 'asid:u', 'steps:u']),
  /**
   * The driver writes a CD (arm_smmu_write_ctx_desc, arm_smmu_write_cd_entry): the domain whose
   * context it holds and its ASID (both 0: the CD is cleared), the device whose CD table it is in
   * ('' for v6.6's per-domain table), and the CFGI_CD + CMD_SYNC steps the write takes.
   */
  cd: defineEvent('smmuv3_write_cd', 'command', ['smmu:s', 'domain:u', 'device:s', 'asid:u', 'steps:u']),
  /** A stream's access ended by an abort STE (QEMU's trace_smmuv3_translate_abort): no event is recorded. */
  translate_abort: defineEvent('smmuv3_translate_abort', 'dma', ['smmu:s', 'device:s', 'addr:x', 'write:b']),
  finalise: defineEvent('smmuv3_domain_finalise', 'call', ['smmu:s', 'domain:u', 'asid:u', 'ias:u']),
};
