/**
 * The IOMMU core's kernel parameters, as a script gives them before any hardware
 * (`lab.cmdline('iommu.strict=0 iommu.forcedac=1')`): iommu_setup() and friends in
 * drivers/iommu/iommu.c and dma-iommu.c, with kstrtobool's spellings of a boolean.
 */
import type { Machine } from './machine.ts';

const PARAMS: Record<string, (m: Machine, on: boolean) => void> = {
  /** iommu_dma_setup: strict (DMA) or lazy (DMA-FQ) default domains; a driver's iommu_set_dma_strict still wins. */
  'iommu.strict': (m, on) => (m.iommu_strict = on),
  /** iommu_set_def_domain_type: IDENTITY default domains (untrusted devices still get DMA). */
  'iommu.passthrough': (m, on) => (m.iommu_passthrough = on),
  /** iommu_dma_forcedac_setup: PCI devices skip the try below 4 GiB. */
  'iommu.forcedac': (m, on) => (m.iommu_dma_forcedac = on),
};

export const CMDLINE_PARAMS = Object.keys(PARAMS);

/** kstrtobool: y/Y/1/on true, n/N/0/off false; null for anything else. */
function kstrtobool(v: string): boolean | null {
  if (/^(?:[yY1]|on)$/i.test(v)) return true;
  if (/^(?:[nN0]|off)$/i.test(v)) return false;
  return null;
}

/** Apply `text` (space-separated name=value); an unknown name or value throws naming it. */
export function iommu_cmdline(m: Machine, text: string): void {
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    const set = Object.hasOwn(PARAMS, name) ? PARAMS[name] : undefined;
    if (!set)
      throw new Error(
        `lab.cmdline: unknown parameter '${name}' (the lab knows ${CMDLINE_PARAMS.join(', ')})`,
      );
    const on = eq < 0 ? null : kstrtobool(word.slice(eq + 1));
    if (on === null)
      throw new Error(`lab.cmdline: '${word}' wants a boolean: ${name}=1 or ${name}=0 (y/n, on/off)`);
    set(m, on);
  }
}
