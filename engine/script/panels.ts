/**
 * What the panels show, computed from a machine (the live one, or one rebuilt at a step). Plain
 * JSON-able answers; addresses stay numbers (the renderer formats them). The renderer knows these
 * shapes through the protocol, never the engine's objects.
 */
import { domainTypeName, RESV_TYPE_SYSFS } from '../core/constants.ts';
import type { IommuDomain } from '../core/domain.ts';
import type { Machine } from '../core/machine.ts';
import { format_bitmap, format_size } from '../core/pgsize.ts';
import {
  device_resv_regions,
  merge_resv_regions,
  resv_regions_sysfs,
  type ResvRegion,
} from '../core/resv.ts';
import type { MappingRange, TableView } from '../pgtable/types.ts';

export type { TableView, TableEntryView, DecodedEntry } from '../pgtable/types.ts';
import type { Trace } from '../trace/trace.ts';

export interface DomainCard {
  id: number;
  type: number;
  typeName: string;
  driver: string;
  instance: string | null;
  pgsize_bitmap: number;
  pgsizes: string;
  aperture: { start: number; end: number; force: boolean };
  devices: string[];
  groups: number[];
  /** Groups whose default domain this is. */
  defaultFor: number[];
  isStatic: boolean;
  mappingCount: number;
  mappingBytes: number;
  details: Record<string, string | number | boolean>;
  hasPageTable: boolean;
}

export interface MappingRow {
  iova: number;
  pa: number;
  size: number;
  prot: number;
  protText: string;
  pgsize: number;
  pgsizeText: string;
}

export interface ResvRow {
  start: number;
  end: number;
  length: number;
  type: number;
  /** Linux's sysfs word: direct, direct-relaxable, reserved, msi. */
  typeName: string;
  /** SW_MSI prints "msi" in sysfs; this tells them apart. */
  swMsi: boolean;
  prot: number;
}

export interface ResvDeviceView {
  name: string;
  iommu: string;
  group: number | null;
  requireDirect: boolean;
  regions: ResvRow[];
  /** The device's current domain: its aperture and mappings, for the address bar. */
  domain: {
    id: number;
    typeName: string;
    aperture: { start: number; end: number } | null;
    mappings: MappingRow[];
  } | null;
}

export interface ResvGroupView {
  id: number;
  devices: string[];
  regions: ResvRow[];
  /** The text /sys/kernel/iommu_groups/N/reserved_regions would print. */
  sysfs: string;
}

export interface IotlbEntryRow {
  tag: number;
  iova: number;
  size: number;
  pa: number;
  prot: number;
  protText: string;
  stale: boolean;
  negative: boolean;
}

export interface IotlbView {
  name: string;
  driver: string;
  capacity: number;
  entries: IotlbEntryRow[];
  stats: { hits: number; misses: number; stale_hits: number; invalidations: number };
  faults: { reason: string; iova: number; write: boolean; device: string; step: number }[];
}

/** Per step with device accesses: how the IOTLB answered (the hit-rate plot). */
export interface TlbPoint {
  step: number;
  hit: number;
  miss: number;
  stale: number;
  fault: number;
}

export function prot_text(prot: number): string {
  const flags: [number, string][] = [
    [1, 'R'],
    [2, 'W'],
    [4, 'C'],
    [8, 'NX'],
    [0x10, 'MMIO'],
    [0x20, 'PRIV'],
  ];
  const s = flags.filter(([bit]) => prot & bit).map(([, n]) => n);
  return s.length ? s.join('|') : '-';
}

/**
 * Merged mappings per domain, kept for one machine state: a panel asks for the count, the address
 * bar's first ranges and many windows of the same list, and a million ranges take about a second to
 * collect. A machine only ever moves forward in place, so (machine, step) names one state. Callers
 * without a step (tests) always get a fresh list.
 */
const mappingsCache = new WeakMap<Machine, { step: number; byDomain: Map<number, MappingRange[]> }>();

function domainMappings(m: Machine, d: IommuDomain, step?: number): MappingRange[] {
  if (step === undefined || !Number.isFinite(step)) return d.mappings();
  let c = mappingsCache.get(m);
  if (!c || c.step !== step) mappingsCache.set(m, (c = { step, byDomain: new Map() }));
  let list = c.byDomain.get(d.id);
  if (!list) c.byDomain.set(d.id, (list = d.mappings()));
  return list;
}

function mappingRows(
  all: MappingRange[],
  offset = 0,
  limit = Infinity,
): { total: number; items: MappingRow[] } {
  return {
    total: all.length,
    items: all.slice(offset, offset + limit).map((m) => ({
      ...m,
      protText: prot_text(m.prot),
      pgsizeText: format_size(m.pgsize),
    })),
  };
}

export function domainCards(m: Machine, step?: number): DomainCard[] {
  return m.domains.map((d) => {
    const maps = domainMappings(m, d, step);
    const groups = [
      ...new Set(d.devices.map((dev) => dev.group?.id).filter((g): g is number => g !== undefined)),
    ];
    return {
      id: d.id,
      type: d.type,
      typeName: domainTypeName(d.type),
      driver: d.owner.name,
      instance: d.iommu?.name ?? null,
      pgsize_bitmap: d.pgsize_bitmap,
      pgsizes: format_bitmap(d.pgsize_bitmap),
      aperture: {
        start: d.geometry.aperture_start,
        end: d.geometry.aperture_end,
        force: d.geometry.force_aperture,
      },
      devices: d.devices.map((dev) => dev.name),
      groups,
      defaultFor: m.groups.filter((g) => g.default_domain === d).map((g) => g.id),
      isStatic: d.is_static,
      mappingCount: maps.length,
      mappingBytes: maps.reduce((n, r) => n + r.size, 0),
      details: d.describe(),
      hasPageTable: d.page_table() !== null,
    };
  });
}

function resvRows(regions: readonly ResvRegion[]): ResvRow[] {
  return regions.map((r) => ({
    start: r.start,
    end: r.start + r.length - 1,
    length: r.length,
    type: r.type,
    typeName: RESV_TYPE_SYSFS[r.type] ?? String(r.type),
    swMsi: r.type === 4,
    prot: r.prot,
  }));
}

export function resvView(m: Machine, step?: number): ResvView {
  const devices = m.devices.map((dev): ResvDeviceView => {
    const d = dev.group?.domain ?? null;
    return {
      name: dev.name,
      iommu: dev.iommu.name,
      group: dev.group?.id ?? null,
      requireDirect: dev.require_direct,
      regions: resvRows(device_resv_regions(dev)),
      domain: d && {
        id: d.id,
        typeName: domainTypeName(d.type),
        aperture: d.geometry.aperture_end
          ? { start: d.geometry.aperture_start, end: d.geometry.aperture_end }
          : null,
        mappings: mappingRows(domainMappings(m, d, step), 0, 2000).items,
      },
    };
  });
  const groups = m.groups.map((g): ResvGroupView => {
    let list: ResvRegion[] = [];
    for (const dev of g.devices) list = merge_resv_regions(list, device_resv_regions(dev));
    return {
      id: g.id,
      devices: g.devices.map((d) => d.name),
      regions: resvRows(list),
      sysfs: resv_regions_sysfs(list),
    };
  });
  return { devices, groups };
}

export function iotlbView(m: Machine): IotlbView[] {
  return m.iommus.map((i) => ({
    name: i.name,
    driver: i.driver.name,
    capacity: i.tlb?.capacity ?? 0,
    entries: (i.tlb?.entries() ?? []).map((e) => ({ ...e, protText: prot_text(e.prot) })),
    stats: i.tlb ? { ...i.tlb.stats } : { hits: 0, misses: 0, stale_hits: 0, invalidations: 0 },
    faults: i.faults.map((f) => ({ ...f })),
  }));
}

/** The IOTLB's answers per step, from the trace's dma_access and io_page_fault events up to `step`. */
export function tlbSeries(
  trace: Trace,
  step: number,
  iommuDevices: ReadonlyMap<string, string>,
  iommu?: string,
): TlbPoint[] {
  const points = new Map<number, TlbPoint>();
  const res = trace.query(0, Number.MAX_SAFE_INTEGER, {
    names: ['dma_access', 'io_page_fault'],
    toStep: step,
  });
  for (const e of res.events) {
    if (iommu && iommuDevices.get(String(e.device)) !== iommu) continue;
    let p = points.get(e.step);
    if (!p) points.set(e.step, (p = { step: e.step, hit: 0, miss: 0, stale: 0, fault: 0 }));
    if (e.name === 'io_page_fault') p.fault++;
    else if (e.tlb === 'hit' || e.tlb === 'miss' || e.tlb === 'stale') p[e.tlb]++;
  }
  return [...points.values()];
}

export interface PageTableView {
  domain: number;
  format: string;
  levels: number;
  tables: TableView[];
}

export interface ResvView {
  devices: ResvDeviceView[];
  groups: ResvGroupView[];
}

export function pageTableView(m: Machine, domainId: number): PageTableView | null {
  const d = m.domain_by_id.get(domainId);
  const t = d?.page_table();
  if (!d || !t) return null;
  return { domain: d.id, format: t.fmt.name, levels: t.levels, tables: t.tables() };
}

/** Answer a panel query against `m`; unknown panels are an error naming the ones there are. */
export function panelQuery(m: Machine, panel: string, args: Record<string, unknown> = {}): unknown {
  // The step the session shows (it always passes one); it keys the mappings kept between queries.
  const step = typeof args.step === 'number' ? args.step : undefined;
  switch (panel) {
    case 'domains':
      return domainCards(m, step);
    case 'mappings': {
      const d = m.domain_by_id.get(Number(args.domain));
      if (!d) throw new Error(`no domain ${String(args.domain)}`);
      return mappingRows(domainMappings(m, d, step), Number(args.offset ?? 0), Number(args.limit ?? 1000));
    }
    case 'pgtable':
      return pageTableView(m, Number(args.domain));
    case 'resv':
      return resvView(m, step);
    case 'iotlb':
      return iotlbView(m);
    case 'tlb-series':
      return tlbSeries(
        m.trace,
        Number(args.step ?? Number.MAX_SAFE_INTEGER),
        new Map(m.devices.map((d) => [d.name, d.iommu.name])),
        typeof args.iommu === 'string' ? args.iommu : undefined,
      );
    default:
      throw new Error(
        `unknown panel '${panel}'; the engine answers domains, mappings, pgtable, resv, iotlb, tlb-series`,
      );
  }
}
