/**
 * The ids of the lab's named checks. The core and drivers raise them; engine/checks holds each
 * one's doc page (typed against this list, so none can be left without one) and the watchers that
 * raise checks by observing the trace.
 */
import type { Machine } from './machine.ts';
import { ev } from './trace-events.ts';

export const CHECK_IDS = [
  'stale-iotlb-hit',
  'unmap-without-sync',
  'map-overlaps-reserved',
  'partial-unmap-of-large-page',
  'out-of-aperture-map',
  'out-of-aperture-unmap',
  'unmap-of-hole',
  'map-over-existing',
  'map-before-attach-failed',
  'mappings-lost-on-detach',
  'attach-time-finalise',
  'direct-mapping-after-attach',
  'unaligned-map',
  'map-on-non-paging-domain',
  'detach-not-current-domain',
  'require-direct-blocked',
  'dma-ownership-misuse',
  'iova-not-from-allocator',
  'dma-unmap-mismatch',
  'multiple-iommu-drivers',
  'domain-switch-failed',
  'kernel-oops',
  'domain-freed-while-attached',
  'default-domain-overridden',
  'invalidation-short',
] as const;

export type CheckId = (typeof CHECK_IDS)[number];

export interface CheckRecord {
  readonly id: CheckId;
  readonly step: number;
  readonly message: string;
}

/** Record a check (a WARN_ON in Linux, or a rule the lab watches), unless the session turned it off. */
export function raise_check(machine: Machine, id: CheckId, message: string): void {
  if (machine.disabled_checks.has(id) || machine.diagnosing) return;
  const step = machine.trace.step;
  machine.checks.push({ id, step, message });
  machine.trace.emit(ev.check, machine.trace.str(id), machine.trace.str(message));
}
