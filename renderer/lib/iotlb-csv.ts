/** The IOTLB panel's CSV export: one row per entry of every instance, addresses as C hex literals. */
import type { IotlbView } from '../../engine/host/protocol.ts';
import { hexPlain } from './format.ts';

export function entryState(e: { stale: boolean; negative: boolean }): 'valid' | 'stale' | 'negative' {
  return e.negative ? 'negative' : e.stale ? 'stale' : 'valid';
}

export function iotlbCsv(views: IotlbView[], step: number): string {
  const rows = ['step,iommu,driver,tag,iova,size,pa,prot,state'];
  for (const v of views)
    for (const e of v.entries)
      rows.push(
        [
          step,
          v.name,
          v.driver,
          e.tag,
          hexPlain(e.iova),
          hexPlain(e.size),
          hexPlain(e.pa),
          e.protText,
          entryState(e),
        ].join(','),
      );
  return `${rows.join('\n')}\n`;
}
