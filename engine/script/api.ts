/**
 * Every function of the `iommu-lab` module by name, with the checks on its arguments. Top-level
 * functions keep their Linux names; handle methods are `device.dma_read`, `domain.ops.map_pages`,
 * `iommu.ops.domain_alloc_paging`. `query` entries read state without changing it and are not steps.
 */
import { iommu_domain_alloc, iommu_domain_free, iommu_paging_domain_alloc } from '../core/alloc.ts';
import {
  iommu_attach_device,
  iommu_attach_group,
  iommu_detach_device,
  iommu_detach_group,
  iommu_device_claim_dma_owner,
  iommu_device_release_dma_owner,
} from '../core/attach.ts';
import { iommu_cmdline } from '../core/cmdline.ts';
import { SZ_1G, SZ_4K } from '../core/constants.ts';
import type { Bus, DefaultDomainRequest, Device } from '../core/device.ts';
import type { IommuOps } from '../core/driver.ts';
import type { IommuDomain } from '../core/domain.ts';
import type { IommuDevice } from '../core/iommu-device.ts';
import { IommuIotlbGather, iommu_iotlb_gather_init, iommu_iotlb_sync } from '../core/gather.ts';
import { isKernelName, KERNEL_NAMES, KernelVersionError } from '../core/kernel-profile.ts';
import { iommu_map, iommu_map_sg, type SgEntry } from '../core/map.ts';
import { parse_options } from '../core/options.ts';
import { hex } from '../core/format.ts';
import { iommu_pgsize } from '../core/pgsize.ts';
import { iommu_probe_device } from '../core/probe.ts';
import {
  device_resv_regions,
  merge_resv_regions,
  parse_resv_region,
  resv_type_name,
  type ResvRegion,
} from '../core/resv.ts';
import { device_dma } from '../core/translate.ts';
import { iommu_flush_iotlb_all, iommu_iova_to_phys, iommu_unmap, iommu_unmap_fast } from '../core/unmap.ts';
import {
  dma_alloc_coherent,
  dma_free_coherent,
  dma_map_sg,
  dma_map_single,
  dma_set_mask_and_coherent,
  dma_unmap_sg,
  dma_unmap_single,
} from '../dma/dma-iommu.ts';
import { DRIVER_NAMES, DRIVERS } from '../drivers/index.ts';
import { bytesOf, describe, dma_length, ends_by_2_53, int, read_length, str, u64 } from './args.ts';
import type { LabContext } from './lab-context.ts';
import { map_pages_fit, own_device_of, unmap_pages_fit } from './op-checks.ts';
import type { Trace, TraceEvent } from '../trace/trace.ts';

/** The events lab.trace() has made, per trace (they are frozen, so later calls share them). */
const traceObjects = new WeakMap<Trace, TraceEvent[]>();
export interface ApiEntry {
  /** Parameter names, for the trace and the API reference. */
  readonly params: readonly string[];
  /** Reads state only: not a step, not recorded. */
  readonly query?: boolean;
  /**
   * Positions of arguments compared by identity (owner cookies): the call log keeps which object
   * it was, not what it held, so a replay passes the same object wherever the script did.
   */
  readonly cookies?: readonly number[];
  // Arguments are checked inside: a script may pass anything.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  impl(ctx: LabContext, ...args: any[]): unknown;
}

const frozenRegion = (r: ResvRegion) =>
  Object.freeze({ start: r.start, length: r.length, prot: r.prot, type: r.type });

type DmaSgEntry = SgEntry & { dma_address?: number; dma_length?: number };

function sgList(v: unknown): SgEntry[] {
  if (!Array.isArray(v)) throw new TypeError(`sg must be an array of {paddr, length} (got ${describe(v)})`);
  // Array.from, not map: map skips the holes of a sparse array, and a hole is no entry either.
  return Array.from(v, (e: unknown, i) => {
    if (!(i in v)) throw new TypeError(`sg[${i}] must be an object {paddr, length} (got a hole)`);
    if (typeof e !== 'object' || e === null)
      throw new TypeError(`sg[${i}] must be an object {paddr, length}`);
    const o = e as { paddr?: unknown; length?: unknown };
    const entry = { paddr: u64(`sg[${i}].paddr`, o.paddr), length: u64(`sg[${i}].length`, o.length) };
    ends_by_2_53(`sg[${i}].paddr`, entry.paddr, 'length', entry.length);
    return entry;
  });
}

/** A start and a length, each checked, that must end by 2^53 (the lab's addresses stay exact). */
function range(startName: string, start: unknown, lengthName: string, length: unknown): [number, number] {
  const at = u64(startName, start);
  const n = u64(lengthName, length);
  ends_by_2_53(startName, at, lengthName, n);
  return [at, n];
}

function noHardwareYet(ctx: LabContext, what: string): void {
  if (ctx.machine.iommus.length || ctx.machine.devices.length)
    throw new Error(`${what} must come before any lab.add_iommu/add_device`);
}

export const API: Record<string, ApiEntry> = {
  // ───────────── the lab ─────────────
  'lab.kernel': {
    params: ['name'],
    impl(ctx, name?: unknown) {
      if (name === undefined) return ctx.machine.profile.name;
      if (!isKernelName(name))
        throw new Error(
          `unknown kernel profile ${describe(name)}; the lab models ${KERNEL_NAMES.join(', ')}`,
        );
      // SCRIPT-API: picked before any hardware is added, later it throws — even naming the same era.
      noHardwareYet(ctx, 'lab.kernel()');
      if (name === ctx.machine.profile.name) return name;
      if (ctx.options.fixedKernel)
        throw new Error(
          `the matrix fixed this cell's kernel to ${ctx.machine.profile.name}; lab.kernel('${name}') cannot change it`,
        );
      ctx.switchKernel(name);
      return name;
    },
  },
  'lab.cmdline': {
    params: ['params'],
    impl(ctx, text: unknown) {
      noHardwareYet(ctx, 'lab.cmdline()');
      iommu_cmdline(ctx.machine, str('params', text));
    },
  },
  'lab.add_iommu': {
    params: ['name', 'driver', 'options'],
    impl(ctx, name: unknown, driverName: unknown, options: unknown) {
      const n = str('name', name);
      if (ctx.machine.iommus.some((i) => i.name === n))
        throw new Error(`an IOMMU named '${n}' exists already`);
      const driver = DRIVERS.get(str('driver', driverName));
      if (!driver) {
        const known = (DRIVER_NAMES as readonly string[]).includes(driverName as string);
        throw new Error(
          known
            ? `the ${driverName} driver model is not in this build of the lab yet; modelled: ${[...DRIVERS.keys()].join(', ')}`
            : `unknown driver ${describe(driverName)}; the lab knows ${DRIVER_NAMES.join(', ')}`,
        );
      }
      driver.check_available?.(ctx.machine);
      const other = ctx.machine.iommus.find((i) => i.driver !== driver);
      if (other && ctx.machine.profile.has('single_iommu_driver'))
        throw new KernelVersionError(
          `${driver.name} cannot register next to ${other.name} (${other.driver.name}): until v6.8 ` +
            `iommu_device_register refuses an IOMMU of a second driver (-EBUSY); the lab runs ${ctx.machine.profile.name}`,
        );
      const iommu = driver.create(ctx.machine, n, parse_options(driver.name, driver.options, options));
      ctx.machine.iommus.push(iommu);
      return ctx.handles.iommu(iommu);
    },
  },
  'lab.add_device': {
    params: ['name', 'spec'],
    impl(ctx, name: unknown, spec: unknown) {
      const n = str('name', name);
      if (ctx.machine.devices.some((d) => d.name === n))
        throw new Error(`a device named '${n}' exists already`);
      if (typeof spec !== 'object' || spec === null)
        throw new TypeError('spec must be an object {iommu, resv?, group?, bus?, trusted?, default_domain?}');
      const s = spec as Record<string, unknown>;
      const allowed = ['iommu', 'resv', 'group', 'bus', 'trusted', 'default_domain'];
      for (const k of Object.keys(s))
        if (!allowed.includes(k))
          throw new Error(`lab.add_device: unknown field '${k}'; it accepts ${allowed.join(', ')}`);
      const iommu = ctx.iommu(s.iommu, 'spec.iommu');
      if (s.resv !== undefined && !Array.isArray(s.resv))
        throw new TypeError('spec.resv must be an array of {start, length, type}');
      const resv = ((s.resv as unknown[] | undefined) ?? []).map((r, i) =>
        parse_resv_region(r, `spec.resv[${i}]`),
      );
      const ignores = iommu.driver.ignores_fw_resv;
      if (resv.length && ignores)
        throw new Error(`spec.resv: ${iommu.driver.name} ${ignores}, so these regions would have no effect`);
      const fw = iommu.driver.fw_resv_types;
      resv.forEach((r, i) => {
        if (fw && !fw.types.includes(r.type))
          throw new Error(
            `spec.resv[${i}]: firmware describes only ${fw.types.map((t) => `'${resv_type_name(t)}'`).join(' and ')} regions for ${iommu.driver.name} devices (${fw.source}), not type ${r.type} ('${resv_type_name(r.type)}'); the driver adds its own MSI regions`,
          );
      });
      const bus = (s.bus ?? 'pci') as Bus;
      if (bus !== 'pci' && bus !== 'platform')
        throw new Error(`spec.bus must be 'pci' or 'platform' (got ${describe(s.bus)})`);
      if (s.group !== undefined) str('spec.group', s.group);
      if (s.trusted !== undefined && typeof s.trusted !== 'boolean')
        throw new TypeError('spec.trusted must be true or false');
      const dd = s.default_domain as DefaultDomainRequest | undefined;
      if (dd !== undefined && !['identity', 'dma', 'dma-fq', 'blocked'].includes(dd))
        throw new Error(
          `spec.default_domain must be 'identity', 'dma', 'dma-fq' or 'blocked' (got ${describe(dd)})`,
        );
      const dev = iommu_probe_device(ctx.machine, n, iommu, {
        resv,
        group: (s.group as string | undefined) ?? null,
        bus,
        trusted: (s.trusted as boolean | undefined) ?? true,
        default_domain: dd ?? null,
      });
      return ctx.handles.device(dev);
    },
  },
  'lab.bus': {
    params: ['name'],
    query: true,
    impl(ctx, name: unknown) {
      if (name !== 'pci' && name !== 'platform')
        throw new Error(`lab.bus() takes 'pci' or 'platform' (got ${describe(name)})`);
      return ctx.handles.bus(name);
    },
  },
  'lab.mem.alloc': {
    params: ['size', 'align'],
    impl(ctx, size: unknown, align: unknown) {
      const n = u64('size', size);
      if (n === 0) throw new RangeError('size must be greater than 0');
      const a = align === undefined ? SZ_4K : u64('align', align);
      if (a === 0 || (a & (a - 1)) !== 0 || a > SZ_1G)
        throw new RangeError(`align must be a power of two up to SZ_1G (got ${describe(align)})`);
      const pa = ctx.machine.mem.alloc_pages(n, a);
      if (!pa)
        throw new Error(`lab.mem.alloc(${n}): out of simulated memory (or an injected allocation failure)`);
      return pa;
    },
  },
  'lab.mem.write': {
    params: ['paddr', 'bytes'],
    impl(ctx, paddr: unknown, bytes: unknown) {
      const at = u64('paddr', paddr);
      const data = bytesOf('bytes', bytes);
      ends_by_2_53('paddr', at, 'bytes.length', data.length);
      ctx.machine.mem.write(at, data);
    },
  },
  'lab.mem.read': {
    params: ['paddr', 'length'],
    query: true,
    impl(ctx, paddr: unknown, length: unknown) {
      const at = u64('paddr', paddr);
      const n = read_length('length', length);
      ends_by_2_53('paddr', at, 'length', n);
      return ctx.machine.mem.read(at, n);
    },
  },
  'lab.seed': {
    params: ['n'],
    impl(ctx, n: unknown) {
      const seed = int('n', n);
      // The generator's state is 32 bits: a larger seed would be cut silently (to 0 for 2 ** 32).
      if (seed < 0 || seed > 0xffffffff)
        throw new RangeError(`n must be a whole number from 0 to 4294967295, as --seed (got ${seed})`);
      ctx.machine.seed(seed);
    },
  },
  'lab.random': { params: [], impl: (ctx) => ctx.machine.random() },
  'lab.advance_time': {
    params: ['ms'],
    impl(ctx, ms: unknown) {
      const by = u64('ms', ms);
      // The clock is a number of milliseconds: past 2^53 it would stop counting exactly.
      if (!Number.isSafeInteger(ctx.machine.clock_ms + by))
        throw new RangeError(
          `ms would take the clock past 2^53 ms, where it stops being exact (now ${ctx.machine.clock_ms}, ms ${by})`,
        );
      ctx.machine.advance_time(by);
    },
  },
  'lab.now': { params: [], query: true, impl: (ctx) => ctx.machine.clock_ms },
  'lab.checks': {
    params: [],
    query: true,
    impl: (ctx) =>
      ctx.machine.checks.map((c) => Object.freeze({ id: c.id, step: c.step, message: c.message })),
  },
  'lab.trace': {
    params: [],
    query: true,
    impl(ctx) {
      // The events already made are kept, so a script that asks in a loop pays for the new ones.
      const t = ctx.machine.trace;
      let made = traceObjects.get(t);
      if (!made || made.length > t.length) traceObjects.set(t, (made = []));
      for (let i = made.length; i < t.length; i++) made.push(Object.freeze(t.event(i)));
      return made.slice();
    },
  },
  'lab.fail_nth_alloc': {
    params: ['n'],
    impl(ctx, n: unknown) {
      ctx.machine.mem.fail_nth_alloc(u64('n', n));
    },
  },

  // ───────────── core API ─────────────
  iommu_paging_domain_alloc: {
    params: ['dev'],
    impl(ctx, dev: unknown) {
      const r = iommu_paging_domain_alloc(ctx.device(dev));
      return typeof r === 'number' ? ctx.handles.errPtr(r) : ctx.handles.domain(r);
    },
  },
  iommu_domain_alloc: {
    params: ['bus'],
    impl(ctx, bus: unknown) {
      const name = (bus as { name?: unknown } | null)?.name;
      if (bus !== ctx.handles.bus('pci') && bus !== ctx.handles.bus('platform'))
        throw new TypeError(`bus must be lab.bus('pci') or lab.bus('platform') (got ${describe(bus)})`);
      return ctx.handles.domain(iommu_domain_alloc(ctx.machine, name as Bus));
    },
  },
  iommu_domain_free: {
    params: ['domain'],
    impl(ctx, d: unknown) {
      iommu_domain_free(ctx.domain(d));
    },
  },
  iommu_attach_device: {
    params: ['domain', 'dev'],
    impl: (ctx, d: unknown, dev: unknown) => iommu_attach_device(ctx.domain(d), ctx.device(dev)),
  },
  iommu_detach_device: {
    params: ['domain', 'dev'],
    impl(ctx, d: unknown, dev: unknown) {
      iommu_detach_device(ctx.domain(d), ctx.device(dev));
    },
  },
  iommu_attach_group: {
    params: ['domain', 'group'],
    impl: (ctx, d: unknown, g: unknown) => iommu_attach_group(ctx.domain(d), ctx.group(g)),
  },
  iommu_detach_group: {
    params: ['domain', 'group'],
    impl(ctx, d: unknown, g: unknown) {
      iommu_detach_group(ctx.domain(d), ctx.group(g));
    },
  },
  iommu_group_get: {
    params: ['dev'],
    query: true,
    impl: (ctx, dev: unknown) => ctx.handles.group(ctx.device(dev).group),
  },
  iommu_get_domain_for_dev: {
    params: ['dev'],
    query: true,
    impl: (ctx, dev: unknown) => ctx.handles.domain(ctx.device(dev).group?.domain ?? null),
  },
  iommu_device_claim_dma_owner: {
    params: ['dev', 'owner'],
    cookies: [1],
    impl: (ctx, dev: unknown, owner: unknown) => iommu_device_claim_dma_owner(ctx.device(dev), owner),
  },
  iommu_device_release_dma_owner: {
    params: ['dev'],
    impl(ctx, dev: unknown) {
      iommu_device_release_dma_owner(ctx.device(dev));
    },
  },
  iommu_map: {
    params: ['domain', 'iova', 'paddr', 'size', 'prot'],
    impl(ctx, d: unknown, iova: unknown, paddr: unknown, size: unknown, prot: unknown) {
      const domain = ctx.domain(d);
      const [v, p, s] = [u64('iova', iova), u64('paddr', paddr), u64('size', size)];
      iova_range(domain, v, 'size', s);
      ends_by_2_53('paddr', p, 'size', s);
      return iommu_map(domain, v, p, s, u64('prot', prot));
    },
  },
  iommu_map_sg: {
    params: ['domain', 'iova', 'sg', 'prot'],
    impl(ctx, d: unknown, iova: unknown, sg: unknown, prot: unknown) {
      const domain = ctx.domain(d);
      const v = u64('iova', iova);
      const list = sgList(sg);
      const total = list.reduce((sum, e) => sum + e.length, 0);
      iova_range(domain, v, 'the list', total);
      return iommu_map_sg(domain, v, list, u64('prot', prot));
    },
  },
  iommu_unmap: {
    params: ['domain', 'iova', 'size'],
    impl(ctx, d: unknown, iova: unknown, size: unknown) {
      const domain = ctx.domain(d);
      const [v, s] = [u64('iova', iova), u64('size', size)];
      iova_range(domain, v, 'size', s);
      return iommu_unmap(domain, v, s);
    },
  },
  iommu_iotlb_gather_init: {
    params: [],
    impl(ctx) {
      const id = next_gather_id(ctx);
      const g = iommu_iotlb_gather_init(new IommuIotlbGather());
      ctx.machine.script_objects.set(`t:${id}`, g);
      return ctx.handles.gather(g, id);
    },
  },
  iommu_unmap_fast: {
    params: ['domain', 'iova', 'size', 'gather'],
    impl(ctx, d: unknown, iova: unknown, size: unknown, g: unknown) {
      const domain = ctx.domain(d);
      const [v, s] = [u64('iova', iova), u64('size', size)];
      iova_range(domain, v, 'size', s);
      return iommu_unmap_fast(domain, v, s, ctx.gather(g));
    },
  },
  iommu_iotlb_sync: {
    params: ['domain', 'gather'],
    impl(ctx, d: unknown, g: unknown) {
      iommu_iotlb_sync(ctx.domain(d), ctx.gather(g));
    },
  },
  iommu_flush_iotlb_all: {
    params: ['domain'],
    impl(ctx, d: unknown) {
      iommu_flush_iotlb_all(ctx.domain(d));
    },
  },
  iommu_iova_to_phys: {
    params: ['domain', 'iova'],
    impl(ctx, d: unknown, iova: unknown) {
      const domain = ctx.domain(d);
      const v = u64('iova', iova);
      iova_range(domain, v, null);
      return iommu_iova_to_phys(domain, v);
    },
  },
  iommu_get_resv_regions: {
    params: ['dev'],
    query: true,
    impl: (ctx, dev: unknown) => device_resv_regions(ctx.device(dev)).map(frozenRegion),
  },
  iommu_get_group_resv_regions: {
    params: ['group'],
    query: true,
    impl(ctx, g: unknown) {
      let list: ResvRegion[] = [];
      for (const dev of ctx.group(g).devices) list = merge_resv_regions(list, device_resv_regions(dev));
      return list.map(frozenRegion);
    },
  },
  iommu_pgsize: {
    params: ['domain', 'iova', 'paddr', 'size'],
    query: true,
    impl(ctx, d: unknown, iova: unknown, paddr: unknown, size: unknown) {
      const domain = ctx.domain(d);
      const args = [u64('iova', iova), u64('paddr', paddr), u64('size', size)] as const;
      const r = iommu_pgsize(domain, ...args);
      // No page size of the bitmap fits: Linux BUG()s here (facts §2.2); the lab stops the script.
      if (r.pgsize === 0)
        throw new Error(
          `kernel BUG in iommu_pgsize: no page size of pgsize_bitmap ${hex(domain.pgsize_bitmap)} fits ` +
            `iova ${hex(args[0])}, paddr ${hex(args[1])}, size ${hex(args[2])}`,
        );
      return Object.freeze({ pgsize: r.pgsize, count: r.count });
    },
  },

  // ───────────── DMA API ─────────────
  dma_map_single: {
    params: ['dev', 'paddr', 'size', 'dir'],
    impl(ctx, dev: unknown, paddr: unknown, size: unknown, dir: unknown) {
      const [pa, n] = range('paddr', paddr, 'size', size);
      return dma_map_single(ctx.device(dev), pa, n, direction(dir));
    },
  },
  dma_unmap_single: {
    params: ['dev', 'dma_addr', 'size', 'dir'],
    impl(ctx, dev: unknown, addr: unknown, size: unknown, dir: unknown) {
      const [at, n] = range('dma_addr', addr, 'size', size);
      dma_unmap_single(ctx.device(dev), at, n, direction(dir));
    },
  },
  dma_map_sg: {
    params: ['dev', 'sg', 'dir'],
    impl(ctx, dev: unknown, sg: unknown, dir: unknown) {
      const list: DmaSgEntry[] = sgList(sg);
      (sg as object[]).forEach((e, i) => {
        for (const key of ['dma_address', 'dma_length']) {
          const d = Object.getOwnPropertyDescriptor(e, key);
          if (d ? !d.writable && !d.set : !Object.isExtensible(e))
            throw new TypeError(
              `sg[${i}] cannot take ${key}: dma_map_sg writes dma_address and dma_length into each entry, as Linux fills in the scatterlist (pass entries that are not frozen)`,
            );
        }
      });
      const n = dma_map_sg(ctx.device(dev), list, direction(dir));
      // Hand the DMA addresses back on the script's own entries, as Linux fills in the scatterlist.
      list.forEach((e, i) =>
        Object.assign((sg as object[])[i], { dma_address: e.dma_address, dma_length: e.dma_length }),
      );
      return n;
    },
  },
  dma_unmap_sg: {
    params: ['dev', 'sg', 'dir'],
    impl(ctx, dev: unknown, sg: unknown, dir: unknown) {
      const list = sgList(sg).map((e, i): DmaSgEntry => {
        const { dma_address, dma_length } = (sg as DmaSgEntry[])[i];
        return {
          ...e,
          dma_address: dma_address === undefined ? undefined : u64(`sg[${i}].dma_address`, dma_address),
          dma_length: dma_length === undefined ? undefined : u64(`sg[${i}].dma_length`, dma_length),
        };
      });
      dma_unmap_sg(ctx.device(dev), list, direction(dir));
    },
  },
  dma_alloc_coherent: {
    params: ['dev', 'size'],
    impl(ctx, dev: unknown, size: unknown) {
      const r = dma_alloc_coherent(ctx.device(dev), u64('size', size));
      return r && Object.freeze({ ...r });
    },
  },
  dma_set_mask_and_coherent: {
    params: ['dev', 'mask'],
    impl: (ctx, dev: unknown, mask: unknown) => dma_set_mask_and_coherent(ctx.device(dev), u64('mask', mask)),
  },
  dma_free_coherent: {
    params: ['dev', 'size', 'cpu_addr', 'dma_handle'],
    impl(ctx, dev: unknown, size: unknown, cpu: unknown, handle: unknown) {
      const [cpu_addr, n] = range('cpu_addr', cpu, 'size', size);
      const [dma_handle] = range('dma_handle', handle, 'size', n);
      dma_free_coherent(ctx.device(dev), n, cpu_addr, dma_handle);
    },
  },

  // ───────────── handle methods ─────────────
  'device.dma_read': {
    params: ['dev', 'iova', 'length'],
    impl(ctx, dev: unknown, iova: unknown, length: unknown) {
      const n = dma_length('length', read_length('length', length));
      if (n === 0) throw new RangeError('length must be greater than 0');
      const at = u64('iova', iova);
      ends_by_2_53('iova', at, 'length', n);
      return Object.freeze(device_dma(ctx.device(dev), at, n, false));
    },
  },
  'device.dma_write': {
    params: ['dev', 'iova', 'bytes'],
    impl(ctx, dev: unknown, iova: unknown, bytes: unknown) {
      const b = bytesOf('bytes', bytes);
      if (b.length === 0) throw new RangeError('bytes must not be empty');
      dma_length('bytes.length', b.length);
      const at = u64('iova', iova);
      ends_by_2_53('iova', at, 'bytes.length', b.length);
      return Object.freeze(device_dma(ctx.device(dev), at, b.length, true, b));
    },
  },
  'domain.ops.attach_dev': {
    params: ['domain', 'dev'],
    impl(ctx, d: unknown, dev: unknown) {
      const domain = ctx.domain(d);
      const device = ctx.device(dev);
      own_device_of('domain.ops.attach_dev', domain.owner.name, device);
      return op(ctx, d, 'attach_dev')(domain, device);
    },
  },
  'domain.ops.map_pages': {
    params: ['domain', 'iova', 'paddr', 'pgsize', 'pgcount', 'prot'],
    impl(ctx, d: unknown, iova: unknown, paddr: unknown, pgsize: unknown, pgcount: unknown, prot: unknown) {
      const [v, p, size, count] = [
        u64('iova', iova),
        u64('paddr', paddr),
        u64('pgsize', pgsize),
        u64('pgcount', pgcount),
      ];
      map_pages_fit(v, p, size, count);
      const r = op(ctx, d, 'map_pages')(ctx.domain(d), v, p, size, count, u64('prot', prot));
      return Object.freeze({ ret: r.ret, mapped: r.mapped });
    },
  },
  'domain.ops.unmap_pages': {
    params: ['domain', 'iova', 'pgsize', 'pgcount', 'gather'],
    impl(ctx, d: unknown, iova: unknown, pgsize: unknown, pgcount: unknown, g: unknown) {
      const [v, size, count] = [u64('iova', iova), u64('pgsize', pgsize), u64('pgcount', pgcount)];
      unmap_pages_fit(v, size, count);
      return op(ctx, d, 'unmap_pages')(ctx.domain(d), v, size, count, ctx.gather(g));
    },
  },
  'domain.ops.iotlb_sync_map': {
    params: ['domain', 'iova', 'size'],
    impl: (ctx, d: unknown, iova: unknown, size: unknown) =>
      op(ctx, d, 'iotlb_sync_map')(ctx.domain(d), u64('iova', iova), u64('size', size)),
  },
  'domain.ops.iotlb_sync': {
    params: ['domain', 'gather'],
    impl(ctx, d: unknown, g: unknown) {
      op(ctx, d, 'iotlb_sync')(ctx.domain(d), ctx.gather(g));
    },
  },
  'domain.ops.flush_iotlb_all': {
    params: ['domain'],
    impl(ctx, d: unknown) {
      op(ctx, d, 'flush_iotlb_all')(ctx.domain(d));
    },
  },
  'domain.ops.iova_to_phys': {
    params: ['domain', 'iova'],
    impl: (ctx, d: unknown, iova: unknown) => op(ctx, d, 'iova_to_phys')(ctx.domain(d), u64('iova', iova)),
  },
  'domain.ops.free': {
    params: ['domain'],
    impl(ctx, d: unknown) {
      iommu_domain_free(ctx.domain(d));
    },
  },
  // The ops handle passes its driver's name first: the ops are the driver's (one table for all its
  // instances, as in Linux), and the device says which instance.
  'iommu.ops.domain_alloc_paging': {
    params: ['driver', 'dev'],
    impl(ctx, driver: unknown, dev: unknown) {
      const d = ctx.device(dev);
      // Called directly, the op skips the core (no type or bitmap set by iommu_domain_init), as in Linux.
      const r = iommu_op(d.iommu, driver, 'domain_alloc_paging', d)(d);
      return typeof r === 'number' ? ctx.handles.errPtr(r) : ctx.handles.domain(r);
    },
  },
  'iommu.ops.domain_alloc': {
    params: ['driver', 'type'],
    impl(ctx, driver: unknown, type: unknown) {
      const unit = ctx.machine.iommus.find((i) => i.driver.name === driver)!;
      return ctx.handles.domain(iommu_op(unit, driver, 'domain_alloc')(ctx.machine, u64('type', type)));
    },
  },
  'iommu.ops.get_resv_regions': {
    params: ['driver', 'dev'],
    query: true,
    impl(ctx, driver: unknown, dev: unknown) {
      const d = ctx.device(dev);
      return iommu_op(d.iommu, driver, 'get_resv_regions', d)(d).map(frozenRegion);
    },
  },
};

/** Entries by number, in declaration order: what the call log and the module's functions hold. */
export const API_NAMES: readonly string[] = Object.freeze(Object.keys(API));
export const API_ENTRIES: readonly ApiEntry[] = Object.freeze(API_NAMES.map((n) => API[n]));
/** Arguments an entry reads (its `params`): what a step records for replay. At most MAX_API_ARGS. */
export const API_ARITY: Uint8Array = Uint8Array.from(API_ENTRIES, (e) => e.params.length);
/** Bit k set: argument k is an owner cookie (`cookies`). */
export const API_COOKIES: Uint8Array = Uint8Array.from(API_ENTRIES, (e) =>
  (e.cookies ?? []).reduce((bits, k) => bits | (1 << k), 0),
);
export const MAX_API_ARGS = 6;
const API_IDS = new Map(API_NAMES.map((n, i) => [n, i]));

export function apiId(name: string): number {
  const id = API_IDS.get(name);
  if (id === undefined) throw new Error(`internal: no API entry '${name}'`);
  return id;
}

function op<
  K extends
    | 'attach_dev'
    | 'map_pages'
    | 'unmap_pages'
    | 'iotlb_sync_map'
    | 'iotlb_sync'
    | 'flush_iotlb_all'
    | 'iova_to_phys',
>(ctx: LabContext, d: unknown, name: K): NonNullable<ReturnType<LabContext['domain']>['ops'][K]> {
  const fn = ctx.domain(d).ops[name];
  if (!fn) throw new TypeError(`domain.ops.${name} is NULL for this driver`);
  return fn as NonNullable<ReturnType<LabContext['domain']>['ops'][K]>;
}

/**
 * `driver`'s op `name` as `unit` has it. A device behind another driver's unit is refused: Linux
 * calls a driver's ops only for its own devices (the op would read another driver's private data).
 */
function iommu_op<K extends 'domain_alloc_paging' | 'domain_alloc' | 'get_resv_regions'>(
  unit: IommuDevice,
  driver: unknown,
  name: K,
  dev?: Device,
): NonNullable<IommuOps[K]> {
  if (dev) own_device_of(`iommu.ops.${name}`, String(driver), dev);
  const fn = unit.ops[name];
  if (!fn) throw new TypeError(`iommu.ops.${name} is NULL for ${unit.driver.name}`);
  return fn;
}

/**
 * Gathers are numbered in creation order (`t:0`, `t:1`...): the count is kept in the machine, next
 * to the gathers, so a replay numbers them the same whatever else the script layer keeps there.
 */
function next_gather_id(ctx: LabContext): number {
  const m = ctx.machine;
  let counter = m.script_objects.get(GATHER_COUNT) as { n: number } | undefined;
  if (!counter) m.script_objects.set(GATHER_COUNT, (counter = { n: 0 }));
  return counter.n++;
}
const GATHER_COUNT = '#gathers';

function direction(v: unknown): number {
  if (v !== 0 && v !== 1 && v !== 2)
    throw new RangeError(
      `dir must be DMA_BIDIRECTIONAL, DMA_TO_DEVICE or DMA_FROM_DEVICE (got ${describe(v)})`,
    );
  return v;
}

export { KernelVersionError };

/**
 * A domain's IOVA range as a caller can name it: it ends by 2^53 (where the lab's numbers stop
 * being exact), and by 2^32 on omap-iommu and tegra-gart, which exist only on 32-bit Arm, where
 * iommu_map's `unsigned long iova` and `size_t size` hold 32 bits (the driver would wrap a larger
 * one onto a low IOVA). `lengthName` null: one address.
 */
function iova_range(domain: IommuDomain, start: number, lengthName: string | null, length = 1): void {
  if (lengthName) ends_by_2_53('iova', start, lengthName, length);
  if (domain.owner.arch !== 'arm' || start + length <= 2 ** 32) return;
  const what = lengthName ? `iova + ${lengthName} must end by 2^32` : 'iova must be below 2^32';
  const got = lengthName ? `${hex(start)} + ${hex(length)}` : hex(start);
  throw new RangeError(
    `${what} on ${domain.owner.name}, a 32-bit Arm IOMMU (iova is an unsigned long) (got ${got})`,
  );
}
