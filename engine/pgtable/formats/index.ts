/** Every page-table format by name, in the order they were added. */
import type { PgtableFormat } from '../format.ts';
import { ARM_LPAE_S1 } from './arm-lpae-s1.ts';

export const PGTABLE_FORMATS: Readonly<Record<string, PgtableFormat>> = Object.freeze({
  'arm-lpae-s1': ARM_LPAE_S1,
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
