import {
  IOMMU_RESV_DIRECT,
  IOMMU_RESV_DIRECT_RELAXABLE,
  IOMMU_RESV_MSI,
  IOMMU_RESV_RESERVED,
  IOMMU_RESV_SW_MSI,
  RESV_TYPE_SYSFS,
} from './constants.ts';
import { show_value } from './format.ts';
import type { Device } from './device.ts';
import { end_fits } from '../mem/phys-mem.ts';

/** struct iommu_resv_region. `type` is an IOMMU_RESV_* number. */
export interface ResvRegion {
  readonly start: number;
  readonly length: number;
  readonly prot: number;
  readonly type: number;
}

const TYPE_WORDS: Record<string, number> = {
  direct: IOMMU_RESV_DIRECT,
  'direct-relaxable': IOMMU_RESV_DIRECT_RELAXABLE,
  reserved: IOMMU_RESV_RESERVED,
  msi: IOMMU_RESV_MSI,
};

/** The sysfs word for a type (`reserved_regions`); SW_MSI prints "msi", as Linux does. */
export function resv_type_name(type: number): string {
  return RESV_TYPE_SYSFS[type] ?? `unknown(${type})`;
}

export function iommu_alloc_resv_region(
  start: number,
  length: number,
  prot: number,
  type: number,
): ResvRegion {
  return { start, length, prot, type };
}

const RESV_FIELDS = ['start', 'length', 'type', 'prot'];

/** Parse a script's `{start, length, type, prot?}`; errors name the field and what is accepted. */
export function parse_resv_region(spec: unknown, where: string): ResvRegion {
  if (typeof spec !== 'object' || spec === null)
    throw new TypeError(`${where} must be an object {start, length, type}`);
  const { start, length, type, prot } = spec as Record<string, unknown>;
  // A misspelt field (`prto`, `flags`) would otherwise be dropped without a word.
  for (const k of Object.keys(spec))
    if (!RESV_FIELDS.includes(k))
      throw new TypeError(`${where}: unknown field '${k}'; a region has ${RESV_FIELDS.join(', ')}`);
  for (const [name, v] of [
    ['start', start],
    ['length', length],
  ] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`${where}.${name} must be a non-negative safe integer (got ${show_value(v)})`);
  }
  if ((length as number) === 0) throw new RangeError(`${where}.length must not be 0`);
  if (!end_fits(start as number, length as number))
    throw new RangeError(
      `${where}: start + length must not pass 2^53 (got ${String(start)} + ${String(length)})`,
    );
  let t: number | undefined;
  if (
    typeof type === 'number' &&
    Number.isInteger(type) &&
    type >= IOMMU_RESV_DIRECT &&
    type <= IOMMU_RESV_SW_MSI
  )
    t = type;
  else if (typeof type === 'string') t = TYPE_WORDS[type];
  if (t === undefined)
    throw new TypeError(
      `${where}.type must be an IOMMU_RESV_* number (0–4) or one of ${Object.keys(TYPE_WORDS).join(', ')} (got ${show_value(type)})`,
    );
  if (prot !== undefined && (typeof prot !== 'number' || !Number.isInteger(prot) || prot < 0 || prot > 0x3f))
    throw new RangeError(`${where}.prot must be a combination of IOMMU_READ… flags (got ${String(prot)})`);
  // Firmware direct regions are mapped read/write (Intel RMRR, IORT RMR), unless the script says otherwise.
  const defaultProt = t === IOMMU_RESV_DIRECT || t === IOMMU_RESV_DIRECT_RELAXABLE ? 3 : 0;
  return {
    start: start as number,
    length: length as number,
    prot: (prot as number | undefined) ?? defaultProt,
    type: t,
  };
}

/**
 * iommu_insert_resv_region (facts §3.2): insert sorted by (start, type), then merge entries of the
 * new region's type that overlap or touch; entries of other types are never merged.
 */
export function iommu_insert_resv_region(region: ResvRegion, regions: ResvRegion[]): ResvRegion[] {
  const list = [...regions];
  let at = list.findIndex(
    (it) => region.start < it.start || (region.start === it.start && region.type <= it.type),
  );
  if (at < 0) at = list.length;
  list.splice(at, 0, { ...region });
  const stack: ResvRegion[] = [];
  for (const it of list) {
    if (it.type !== region.type) {
      stack.push(it);
      continue;
    }
    const top = stack.findLastIndex((s) => s.type === it.type);
    if (top < 0) {
      stack.push(it);
      continue;
    }
    const t = stack[top];
    const topEnd = t.start + t.length - 1;
    const itEnd = it.start + it.length - 1;
    if (it.start > topEnd + 1) stack.push(it);
    else stack[top] = { ...t, length: Math.max(topEnd, itEnd) - t.start + 1 };
  }
  return stack;
}

/** Fold a device's list into a group's list, region by region. */
export function merge_resv_regions(into: ResvRegion[], regions: readonly ResvRegion[]): ResvRegion[] {
  let out = into;
  for (const r of regions) out = iommu_insert_resv_region(r, out);
  return out;
}

/** The sysfs `reserved_regions` text: `0x%016llx 0x%016llx <type>` per line (start, inclusive end). */
export function resv_regions_sysfs(regions: readonly ResvRegion[]): string {
  const hex = (n: number) => '0x' + n.toString(16).padStart(16, '0');
  return regions
    .map((r) => `${hex(r.start)} ${hex(r.start + r.length - 1)} ${resv_type_name(r.type)}`)
    .join('\n');
}

export function ranges_overlap(a: number, alen: number, b: number, blen: number): boolean {
  return a < b + blen && b < a + alen;
}

/** iommu_get_resv_regions(dev): the driver's list (its own regions and the firmware's), in its order. */
export function device_resv_regions(dev: Device): readonly ResvRegion[] {
  // Computed once per device and attachment (the core forgets it at each attach, core/attach.ts).
  return (dev.resv_regions ??= Object.freeze(
    dev.iommu.ops.get_resv_regions(dev).map((r) => Object.freeze({ ...r })),
  ));
}
