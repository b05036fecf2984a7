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
  ste: defineEvent('smmuv3_write_ste', 'command', ['smmu:s', 'device:s', 'config:s', 'asid:u']),
  /** A stream's access ended by an abort STE (QEMU's trace_smmuv3_translate_abort): no event is recorded. */
  translate_abort: defineEvent('smmuv3_translate_abort', 'dma', ['smmu:s', 'device:s', 'addr:x', 'write:b']),
  finalise: defineEvent('smmuv3_domain_finalise', 'call', ['smmu:s', 'domain:u', 'asid:u', 'ias:u']),
};
