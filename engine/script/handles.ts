/**
 * Script handles: the objects a script holds for devices, domains, groups, IOMMUs and gathers.
 * A handle exposes only what SCRIPT-API.md names, reads the engine's live state through getters,
 * and reaches the engine only through the lab's `call` (so every state change is a recorded step). The
 * same internal object always gives the same handle, so `===` holds as it would for a pointer.
 * Handles hold no reference to engine objects in their properties: hardening a handle can never
 * freeze the engine underneath it.
 */
import type { Device } from '../core/device.ts';
import { IommuDomain, type DomainOps } from '../core/domain.ts';
import type { IommuIotlbGather } from '../core/gather.ts';
import type { IommuGroup } from '../core/group.ts';
import type { IommuDevice } from '../core/iommu-device.ts';
import { apiId } from './api.ts';
import { HANDLE_KEY } from './format.ts';

export const DOMAIN_OP_NAMES = [
  'attach_dev',
  'map_pages',
  'unmap_pages',
  'iotlb_sync_map',
  'iotlb_sync',
  'flush_iotlb_all',
  'iova_to_phys',
  'free',
] as const;

export const IOMMU_OP_NAMES = ['domain_alloc_paging', 'domain_alloc', 'get_resv_regions'] as const;

/** How a handle's methods reach the lab: API entry `id` with up to six arguments (lab-context.ts `call`). */
export type CallFn = (
  id: number,
  a0?: unknown,
  a1?: unknown,
  a2?: unknown,
  a3?: unknown,
  a4?: unknown,
  a5?: unknown,
) => unknown;

const freeze: <T>(v: T) => T = (v) => {
  const h = (globalThis as { harden?: <T>(v: T) => T }).harden;
  return h ? h(v) : Object.freeze(v);
};

/**
 * Every handle (and error pointer) gets a slot, a small integer in creation order: the call log
 * records slots, the trace a name made once per slot (lab-context.ts), and argument checks find the
 * engine object by slot. Keys (`d:3`, `v:nic0`, `e:-22`) name the engine object stably across replays.
 */
export class HandleTable {
  private readonly byInternal = new Map<object, object>();
  private readonly slots = new Map<object, number>();
  /** Per slot: the engine object (null for an error pointer), the key. */
  private readonly internals: (object | null)[] = [];
  readonly keys: string[] = [];
  private readonly errnos: number[] = [];
  private readonly errPtrs = new Map<number, object>();
  // The handle looked up last: a script passes the same domain or device call after call.
  private lastHandle: unknown = undefined;
  private lastSlot = -1;

  constructor(private readonly call: CallFn) {}

  /** The slot of a handle or error pointer, -1 for anything else. */
  slotOf(v: unknown): number {
    if (v === this.lastHandle) return this.lastSlot;
    if (typeof v !== 'object' || v === null) return -1;
    const slot = this.slots.get(v);
    if (slot === undefined) return -1;
    this.lastHandle = v;
    this.lastSlot = slot;
    return slot;
  }

  keyOf(slot: number): string {
    return this.keys[slot];
  }

  /** The errno of an error pointer's slot, 0 for a handle. */
  errnoOf(slot: number): number {
    return this.errnos[slot];
  }

  /** The engine object behind a handle, or undefined for anything else. */
  internal(handle: unknown): object | undefined {
    const slot = this.slotOf(handle);
    return slot < 0 ? undefined : (this.internals[slot] ?? undefined);
  }

  errPtr(errno: number): object {
    let p = this.errPtrs.get(errno);
    if (!p) {
      p = { __err_ptr: errno };
      // Not enumerable, as a handle's: toEqual and the fields shown ignore it; messages print ERR_PTR(-ENODEV).
      Object.defineProperty(p, HANDLE_KEY, { value: `e:${errno}` });
      this.errPtrs.set(errno, freeze(p));
      this.addSlot(p, null, `e:${errno}`, errno);
    }
    return p;
  }

  isErrPtr(x: unknown): boolean {
    const slot = this.slotOf(x);
    return slot >= 0 && this.internals[slot] === null;
  }

  private addSlot(handle: object, internal: object | null, key: string, errno: number): void {
    this.slots.set(handle, this.internals.length);
    this.internals.push(internal);
    this.keys.push(key);
    this.errnos.push(errno);
  }

  /**
   * The handle of a driver's ops table: one per table, as Linux has one static struct per driver,
   * so the ops of two domains (or two instances) of one driver are `===`.
   */
  private opsHandle(ops: object, build: () => object): object {
    let h = this.byInternal.get(ops);
    if (!h) this.byInternal.set(ops, (h = freeze(build())));
    return h;
  }

  private domainOps(ops: DomainOps, driver: string): object {
    return this.opsHandle(ops, () => {
      const out: Record<string, unknown> = {};
      for (const name of DOMAIN_OP_NAMES) {
        if (!ops[name]) continue;
        const id = apiId(`domain.ops.${name}`);
        out[name] = (a0?: unknown, a1?: unknown, a2?: unknown, a3?: unknown, a4?: unknown, a5?: unknown) => {
          // Another driver's domain would run its own driver's op: refused, as iommu.ops refuses
          // another driver's device (Linux would run this driver's code on that domain's data).
          // (Anything but a domain is refused by the call itself, naming what it got.)
          const target = this.internal(a0);
          if (target instanceof IommuDomain && target.ops !== ops)
            throw new TypeError(
              `domain.ops.${name}: domain ${target.id} is ${target.owner.name}'s, but these are ${driver}'s ops`,
            );
          return this.call(id, a0, a1, a2, a3, a4, a5);
        };
      }
      return out;
    });
  }

  /** The ops know their driver, not an instance: Linux calls them with a device (or a type). */
  private iommuOps(i: IommuDevice): object {
    const { driver, machine } = i;
    const ops = i.ops;
    return this.opsHandle(ops, () => {
      const out: Record<string, unknown> = {
        get pgsize_bitmap() {
          return driver.global_pgsize_bitmap(machine);
        },
      };
      for (const name of IOMMU_OP_NAMES) {
        if (!ops[name]) continue;
        const id = apiId(`iommu.ops.${name}`);
        out[name] = (a0?: unknown, a1?: unknown, a2?: unknown, a3?: unknown, a4?: unknown) =>
          this.call(id, driver.name, a0, a1, a2, a3, a4);
      }
      return out;
    });
  }

  private remember<T extends object>(internal: object, key: string, build: () => T): T {
    let h = this.byInternal.get(internal) as T | undefined;
    if (!h) {
      h = build();
      Object.defineProperty(h, HANDLE_KEY, { value: key });
      freeze(h);
      this.byInternal.set(internal, h);
      this.addSlot(h, internal, key, 0);
    }
    return h;
  }

  domain(d: IommuDomain | null): object | null {
    if (!d) return null;
    return this.remember(d, `d:${d.id}`, () => {
      const table = this;
      return {
        get id() {
          return d.id;
        },
        get type() {
          return d.type;
        },
        get pgsize_bitmap() {
          return d.pgsize_bitmap;
        },
        get geometry() {
          return freeze({ ...d.geometry });
        },
        get iommu() {
          return table.iommu(d.iommu);
        },
        get ops() {
          return table.domainOps(d.ops, d.owner.name); // read each time: a legacy core may swap a domain's ops
        },
      };
    });
  }

  device(dev: Device | null): object | null {
    if (!dev) return null;
    return this.remember(dev, `v:${dev.name}`, () => {
      const table = this;
      const handle: Record<string, unknown> = {
        name: dev.name,
        get iommu() {
          return table.iommu(dev.iommu);
        },
        get group() {
          return table.group(dev.group);
        },
        dma_read: (iova: unknown, length: unknown) => this.call(DMA_READ, handle, iova, length),
        dma_write: (iova: unknown, bytes: unknown) => this.call(DMA_WRITE, handle, iova, bytes),
      };
      return handle;
    });
  }

  group(g: IommuGroup | null): object | null {
    if (!g) return null;
    return this.remember(g, `g:${g.id}`, () => {
      const table = this;
      return {
        id: g.id,
        get devices() {
          return freeze(g.devices.map((d) => table.device(d)));
        },
      };
    });
  }

  iommu(i: IommuDevice | null): object | null {
    if (!i) return null;
    return this.remember(i, `i:${i.name}`, () => {
      const table = this;
      const handle: Record<string, unknown> = {
        name: i.name,
        driver: i.driver.name,
        get ops() {
          return table.iommuOps(i);
        },
        tlb: freeze({
          entries: () => freeze(i.tlb.entries().map((e: object) => freeze(e))),
          get stats() {
            return freeze({ ...i.tlb.stats });
          },
        }),
        get faults() {
          return freeze(i.faults.map((f) => freeze({ ...f })));
        },
      };
      const host = (i as { host?: { requests: readonly object[]; kicks: number } }).host;
      if (host) {
        handle.host = freeze({
          get requests() {
            return freeze(host.requests.map((r) => freeze({ ...r })));
          },
          get kicks() {
            return host.kicks;
          },
        });
      }
      return handle;
    });
  }

  gather(g: IommuIotlbGather, id: number): object {
    return this.remember(g, `t:${id}`, () => ({
      get start() {
        return g.start;
      },
      get end() {
        return g.end;
      },
      get pgsize() {
        return g.pgsize;
      },
      get queued() {
        return g.queued;
      },
    }));
  }

  bus(name: 'pci' | 'platform'): object {
    return this.remember(BUS_KEYS[name], `b:${name}`, () => ({ name }));
  }
}

const DMA_READ = apiId('device.dma_read');
const DMA_WRITE = apiId('device.dma_write');

/** Stand-ins for the two buses, so bus handles are remembered like any other. */
const BUS_KEYS = { pci: {}, platform: {} };
