/**
 * Checks raised by watching the trace rather than from inside the core or a driver: a rule that is
 * about a pattern of events (which driver answered what, in which state) lives here, so the core
 * stays the model of Linux and the drivers the models of theirs.
 *
 * Raised elsewhere too: stale-iotlb-hit, unmap-without-sync (core/translate.ts), out-of-aperture-map,
 * map-overlaps-reserved, unaligned-map, map-on-non-paging-domain, map-over-existing on -EEXIST
 * (core/map.ts), unmap-of-hole and partial-unmap-of-large-page where the unmap comes back short or
 * long and no large leaf was left in place (core/unmap.ts), out-of-aperture-unmap (core/unmap.ts where
 * a driver refuses a range past the aperture, and intel-iommu's domain_unmap WARN),
 * direct-mapping-after-attach (core/probe.ts), attach-time-finalise (the
 * drivers), dma-unmap-mismatch and iova-not-from-allocator (engine/dma).
 */
import { raise_check } from '../core/checks.ts';
import { __IOMMU_DOMAIN_PAGING, IOMMU_READ, domainTypeName } from '../core/constants.ts';
import { EEXIST, ENOMEM, ERANGE, errnoName } from '../core/errno.ts';
import { hex } from '../core/format.ts';
import type { Machine } from '../core/machine.ts';
import { ev } from '../core/trace-events.ts';
import { ev as pte_ev } from '../pgtable/trace-events.ts';
import type { Disposable, Trace } from '../trace/trace.ts';

/**
 * Errors that do not break invariant (a): out of memory (allowed by the rule), already mapped (a
 * caller bug), and out-of-range IOVAs (io-pgtable-arm's -ERANGE; the aperture is the caller's
 * business). Misalignment never reaches map_pages: the core refuses it first.
 */
const ALLOWED_ERRORS = new Set([-ENOMEM, -EEXIST, -ERANGE]);

// map_pages fields: domain, iova, paddr, pgsize, pgcount, ret (core/trace-events.ts)
const F_DOMAIN = 0;
const F_IOVA = 1;
const F_PGSIZE = 3;
const F_PGCOUNT = 4;
const F_RET = 5;

/**
 * map-before-attach-failed (facts §6 (a)): a driver's map_pages failed on a paging domain no device
 * was ever attached to, for an in-aperture IOVA, with an error the rule does not allow.
 */
function watch_map_before_attach(machine: () => Machine, trace: Trace, index: number): void {
  const ret = trace.arg(index, F_RET);
  if (ret >= 0 || ALLOWED_ERRORS.has(ret)) return;
  const m = machine();
  // The rule is about maps a domain should take: one without READ may be refused for its prot
  // alone, attached or not (io-pgtable-arm's -EINVAL without READ or WRITE; s390 before v6.7
  // refuses any map without READ).
  if (!(m.map_prot & IOMMU_READ)) return;
  const domain = m.domain_by_id.get(trace.arg(index, F_DOMAIN));
  if (!domain || !(domain.type & __IOMMU_DOMAIN_PAGING) || domain.ever_attached || domain.devices.length)
    return;
  if (domain.refuses_prot(m.map_prot)) return;
  const iova = trace.arg(index, F_IOVA);
  const size = trace.arg(index, F_PGSIZE) * trace.arg(index, F_PGCOUNT);
  const g = domain.geometry;
  if (g.force_aperture && (iova < g.aperture_start || iova + size - 1 > g.aperture_end)) return;
  raise_check(
    m,
    'map-before-attach-failed',
    `${domain.owner.name} map_pages returned ${errnoName(ret) ?? ret} for [${hex(iova)}, +${hex(size)}) on ${domainTypeName(domain.type)} domain ${domain.id}, which has never been attached: a domain must accept maps before its first attach`,
  );
}

/**
 * map-over-existing where the driver does not refuse, as the page table's pte_exists event says:
 * VT-d keeps the old entry, WARNs ("PTE already set") and reports success ('kept'); amd-v1, omap,
 * s390 and the GART write over it ('replaced'). VT-d mapping under a superpage ('into-leaf'):
 * pfn_to_dma_pte (v6.6 to v6.16) stops only at the target level, so it takes the superpage's
 * output address for a table and __domain_mapping cmpxchg's the new entry into that memory, with
 * the WARN only when the word there was not zero; the superpage goes on translating.
 */
function watch_pte_exists(machine: () => Machine, trace: Trace, index: number): void {
  const action = trace.strings[trace.arg(index, 3)];
  if (action !== 'kept' && action !== 'replaced' && action !== 'into-leaf') return;
  const m = machine();
  const domain = m.domain_by_id.get(trace.arg(index, 0));
  const who = domain?.owner.name ?? 'the driver';
  const at = `at ${hex(trace.arg(index, 1))} on domain ${trace.arg(index, 0)}`;
  const message =
    action === 'into-leaf'
      ? `${who} map_pages ${at} fell inside a larger mapping: Linux walks into that superpage's memory as if it were a table and writes the new entry there (a WARN only if the word was not zero), reports success, and the superpage still translates: unmap it first`
      : `${who} map_pages found a mapping ${at} and ` +
        (action === 'kept'
          ? 'kept it (a WARN, and success reported)'
          : trace.arg(index, 4) === 1
            ? 'wrote the same translation over it (no error, and nothing changed this time; a different pa or prot would have replaced the old one silently)'
            : 'wrote over it (no error: the old translation is gone)') +
        ': unmap it first';
  raise_check(m, 'map-over-existing', message);
}

/**
 * partial-unmap-of-large-page where the unmap succeeds, as the page table's partial_unmap event
 * says: io-pgtable-arm before v6.13 splits the block and unmaps the part asked for ('split'); VT-d
 * leaves the superpage mapped ('ignored': dma_pte_clear_level clears only entries the range covers
 * whole and walks into a superpage it covers in part as if it were a table), though
 * intel_iommu_unmap counts those bytes: it grows the size to the superpage's from the IOVA asked for.
 */
function watch_partial_unmap(machine: () => Machine, trace: Trace, index: number): void {
  const action = trace.strings[trace.arg(index, 4)];
  if (action !== 'split' && action !== 'ignored') return;
  const m = machine();
  const range = `[${hex(trace.arg(index, 1))}, +${hex(trace.arg(index, 2))})`;
  const domain = `domain ${trace.arg(index, 0)}`;
  const leaf = hex(trace.arg(index, 3));
  raise_check(
    m,
    'partial-unmap-of-large-page',
    action === 'split'
      ? `unmap ${range} on ${domain} was inside a ${leaf} block: io-pgtable-arm split it into smaller entries (from v6.13 it WARNs and unmaps nothing)`
      : `an unmap on ${domain} reached ${range} of a ${leaf} superpage without covering it: intel-iommu left the superpage mapped (Linux walks into its memory as if it were a table), yet counts those bytes in what it reports unmapped`,
  );
}

/**
 * Start watching. `machine` may be a function returning the machine in force, for a caller that
 * replaces it (a new kernel profile, a restored checkpoint) while the trace stays the same; with
 * a plain machine, dispose and install again when it is replaced.
 */
export function install_watchers(machine: Machine | (() => Machine)): Disposable {
  const get = typeof machine === 'function' ? machine : () => machine;
  const trace = get().trace;
  const subs = [
    trace.on(ev.map_pages, (t, i) => watch_map_before_attach(get, t, i)),
    trace.on(pte_ev.pte_exists, (t, i) => watch_pte_exists(get, t, i)),
    trace.on(pte_ev.partial_unmap, (t, i) => watch_partial_unmap(get, t, i)),
  ];
  return {
    dispose: () => {
      for (const s of subs) s.dispose();
    },
  };
}
