/**
 * s390-iommu events, named after the zPCI functions that issue the instructions
 * (arch/s390/pci/pci_insn.c: zpci_refresh_trans is RPCIT, zpci_register_ioat is MPCIFC).
 */
import { defineEvent } from '../../trace/events.ts';

export const ev = {
  /** RPCIT over [addr, addr+size): the IOTLB (and a hypervisor's shadow tables) refreshed; ret 0, -ENOMEM or -EIO. */
  rpcit: defineEvent('zpci_refresh_trans', 'command', ['device:s', 'addr:x', 'size:x', 'ret:i']),
  /** MPCIFC register IOAT: the function translates [start, end] with the table at `table` (0 = identity). */
  register_ioat: defineEvent('zpci_register_ioat', 'command', [
    'device:s',
    'start:x',
    'end:x',
    'table:x',
    'cc:u',
  ]),
  /** MPCIFC deregister IOAT: DMA from the function is blocked. */
  unregister_ioat: defineEvent('zpci_unregister_ioat', 'command', ['device:s']),
};
