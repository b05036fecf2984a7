/** Every page-table format by name, in the order they were added. */
import type { PgtableFormat } from '../format.ts';
import { AMD_V1 } from './amd-v1.ts';
import { ARM_LPAE_S1 } from './arm-lpae-s1.ts';
import { GART } from './gart.ts';
import { OMAP } from './omap.ts';
import { S390 } from './s390.ts';
import { VTD_FS } from './vtd-fs.ts';
import { VTD_SL } from './vtd-sl.ts';

export const PGTABLE_FORMATS: Readonly<Record<string, PgtableFormat>> = Object.freeze({
  'arm-lpae-s1': ARM_LPAE_S1,
  'vtd-sl': VTD_SL,
  'amd-v1': AMD_V1,
  omap: OMAP,
  gart: GART,
  s390: S390,
  // The v6.11+ encoding; the driver takes VTD_FS_XD from vtd-fs.ts for older kernels.
  'vtd-fs': VTD_FS,
});

/** The format called `name`; throws a RangeError listing the known ones otherwise. */
export function pgtable_format(name: string): PgtableFormat {
  const f = PGTABLE_FORMATS[name];
  if (!f)
    throw new RangeError(
      `unknown page-table format '${name}' (known: ${Object.keys(PGTABLE_FORMATS).join(', ')})`,
    );
  return f;
}
