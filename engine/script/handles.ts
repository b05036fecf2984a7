/**
 * Script handles: the objects a script holds for devices, domains, groups, IOMMUs and gathers.
 * A handle exposes only what SCRIPT-API.md names, reads the engine's live state through getters,
 * and reaches the engine only through `invoke` (so every state change is a recorded step). The
 * same internal object always gives the same handle, so `===` holds as it would for a pointer.
 * Handles hold no reference to engine objects in their properties: hardening a handle can never
 * freeze the engine underneath it.
 */
import type { Device } from '../core/device.ts';
import type { IommuDomain } from '../core/domain.ts';
import type { IommuIotlbGather } from '../core/gather.ts';
import type { IommuGroup } from '../core/group.ts';
import type { IommuDevice } from '../core/iommu-device.ts';

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

type Invoke = (name: string, args: unknown[]) => unknown;

const freeze: <T>(v: T) => T = (v) => {
  const h = (globalThis as { harden?: <T>(v: T) => T }).harden;
  return h ? h(v) : Object.freeze(v);
};

/** Keys that name an internal object stably across replays: the call log stores these. */
export function handleKey(x: object): string | undefined {
  return (x as { [HANDLE_KEY]?: string })[HANDLE_KEY];
}
const HANDLE_KEY = Symbol('iommu-lab handle key');

export class HandleTable {
  private readonly byInternal = new Map<object, object>();
  private readonly byHandle = new WeakMap<object, object>();
  private readonly errPtrs = new Map<number, object>();

  constructor(private readonly invoke: Invoke) {}

  /** The engine object behind a handle, or undefined for anything else. */
  internal(handle: unknown): object | undefined {
    return typeof handle === 'object' && handle !== null ? this.byHandle.get(handle) : undefined;
  }

  errPtr(errno: number): object {
    let p = this.errPtrs.get(errno);
    if (!p) this.errPtrs.set(errno, (p = freeze({ __err_ptr: errno })));
    return p;
  }

  isErrPtr(x: unknown): boolean {
    return typeof x === 'object' && x !== null && this.errPtrs.get((x as { __err_ptr: number }).__err_ptr) === x;
  }

  private remember<T extends object>(internal: object, key: string, build: () => T): T {
    let h = this.byInternal.get(internal) as T | undefined;
    if (!h) {
      h = build();
      Object.defineProperty(h, HANDLE_KEY, { value: key });
      freeze(h);
      this.byInternal.set(internal, h);
      this.byHandle.set(h, internal);
    }
    return h;
  }

  domain(d: IommuDomain | null): object | null {
    if (!d) return null;
    return this.remember(d, `d:${d.id}`, () => {
      let opsFor: object | null = null;
      let opsHandle: object | null = null;
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
          // A legacy core may swap a domain's ops; the handle follows, keeping `===` while they stay.
          if (opsFor !== d.ops) {
            opsFor = d.ops;
            const ops: Record<string, unknown> = {};
            for (const name of DOMAIN_OP_NAMES) {
              if (d.ops[name]) ops[name] = (...args: unknown[]) => table.invoke(`domain.ops.${name}`, args);
            }
            opsHandle = freeze(ops);
          }
          return opsHandle;
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
        dma_read: (iova: unknown, length: unknown) => this.invoke('device.dma_read', [handle, iova, length]),
        dma_write: (iova: unknown, bytes: unknown) => this.invoke('device.dma_write', [handle, iova, bytes]),
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
      let opsHandle: object | null = null;
      const handle: Record<string, unknown> = {
        name: i.name,
        driver: i.driver.name,
        get ops() {
          if (!opsHandle) {
            const ops = i.ops;
            const out: Record<string, unknown> = {
              get pgsize_bitmap() {
                return i.driver.global_pgsize_bitmap(i.machine);
              },
            };
            for (const name of IOMMU_OP_NAMES) {
              if (ops[name]) out[name] = (...args: unknown[]) => table.invoke(`iommu.ops.${name}`, [handle, ...args]);
            }
            opsHandle = freeze(out);
          }
          return opsHandle;
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

/** Stand-ins for the two buses, so bus handles are remembered like any other. */
const BUS_KEYS = { pci: {}, platform: {} };
