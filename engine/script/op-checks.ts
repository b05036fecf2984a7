/**
 * What a driver's ops refuse when a script calls them directly (`iommu.ops.*`, `domain.ops.*`):
 * arguments the core never passes, so they are checked here, at the script's door, not on the
 * drivers' paths the core takes. Linux has no such checks (its callers never do this); the lab
 * refuses with an exception naming the mistake rather than let one driver's code misread another's
 * data, or count bytes past 2^53 where its numbers stop being exact.
 */
import type { Device } from '../core/device.ts';
import { hex } from '../core/format.ts';
import { end_fits } from '../mem/phys-mem.ts';

/**
 * Op `op` (`iommu.ops.domain_alloc_paging`, `domain.ops.attach_dev`) of `driver` refuses a device
 * behind another driver's IOMMU: the op would read that driver's private data. The core never
 * passes one: from v6.8 it refuses an attach to a domain of another owner, and before v6.8 one
 * IOMMU driver ran the whole system (the lab refuses a second driver's add_iommu there).
 */
export function own_device_of(op: string, driver: string, dev: Device): void {
  const unit = dev.iommu;
  if (unit.driver.name !== driver)
    throw new TypeError(
      `${op}: device ${dev.name} is behind ${unit.name} (${unit.driver.name}), but these are ${driver}'s ops`,
    );
}

/** map_pages' range: pgcount pages of pgsize from iova and from paddr, each ending by 2^53 (as io-pgtable checks). */
export function map_pages_fit(iova: number, paddr: number, pgsize: number, pgcount: number): void {
  const size = pgsize * pgcount;
  if (!end_fits(iova, size) || !end_fits(paddr, size))
    throw new RangeError(
      `iova/paddr + pgsize * pgcount is beyond 2^53 (got iova ${hex(iova)}, paddr ${hex(paddr)}, pgsize ${hex(pgsize)}, pgcount ${pgcount})`,
    );
}

/** unmap_pages' range: pgcount pages of pgsize from iova, ending by 2^53 (as io-pgtable checks). */
export function unmap_pages_fit(iova: number, pgsize: number, pgcount: number): void {
  if (!end_fits(iova, pgsize * pgcount))
    throw new RangeError(
      `iova + pgsize * pgcount is beyond 2^53 (got iova ${hex(iova)}, pgsize ${hex(pgsize)}, pgcount ${pgcount})`,
    );
}
