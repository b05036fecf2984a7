/** Domain allocation (facts §1.5 "Allocation", §6 (e)). */
import {
  IOMMU_DOMAIN_BLOCKED,
  IOMMU_DOMAIN_DMA,
  IOMMU_DOMAIN_DMA_FQ,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_DOMAIN_UNMANAGED,
} from './constants.ts';
import { raise_check } from './checks.ts';
import type { Bus, Device } from './device.ts';
import type { IommuDomain } from './domain.ts';
import type { DomainOrErr, IommuDriver } from './driver.ts';
import { ENODEV, EOPNOTSUPP } from './errno.ts';
import type { Machine } from './machine.ts';
import { ev } from './trace-events.ts';

/** Driver helper: the next domain id and a live-domain registration, shared by every driver. */
export function register_domain(machine: Machine, domain: IommuDomain): void {
  machine.domains.push(domain);
  machine.domain_by_id.set(domain.id, domain);
}

/**
 * The trace's iommu_domain_alloc, once the domain's type is final: after the core set it for a
 * domain a driver handed back (a driver's paging allocation does not know DMA from UNMANAGED), or
 * when a static domain is made.
 */
function announce_domain(domain: IommuDomain): void {
  const t = domain.machine.trace;
  t.emit(ev.domain_alloc, domain.id, domain.type, t.str(domain.owner.name), t.str(domain.iommu?.name ?? ''));
}

/**
 * A driver's static domain (ops->identity_domain, ops->blocked_domain): one per machine, made on
 * first use by `make()` (with next_domain_id), registered, never freed. It lives in the driver's machine globals so a
 * checkpoint carries it.
 */
export function static_domain<D extends IommuDomain>(
  machine: Machine,
  driver: IommuDriver,
  key: 'identity_domain' | 'blocked_domain',
  make: () => D,
): D {
  const g = machine.globals(driver.name);
  let d = g[key] as D | undefined;
  if (!d) {
    d = make();
    d.is_static = true;
    if (!machine.domain_by_id.has(d.id)) register_domain(machine, d);
    announce_domain(d);
    g[key] = d;
  }
  return d;
}

/** Undo register_domain for a domain whose allocation failed half-way. */
export function unregister_domain(domain: IommuDomain): void {
  const list = domain.machine.domains;
  const i = list.indexOf(domain);
  if (i >= 0) list.splice(i, 1);
}

export function next_domain_id(machine: Machine): number {
  return machine.next_domain_id++;
}

/**
 * What the core does to every domain a driver hands back: set its type, and (the legacy fallback at
 * the centre of the 2023 thread) copy the driver's global pgsize_bitmap when the driver left it 0.
 */
function iommu_domain_init(domain: IommuDomain, type: number, driver: IommuDriver): IommuDomain {
  domain.type = type;
  if (!domain.pgsize_bitmap) domain.pgsize_bitmap = driver.global_pgsize_bitmap(domain.machine);
  announce_domain(domain);
  return domain;
}

/**
 * __iommu_domain_alloc for a device: static identity/blocked domains, domain_alloc_paging for
 * paging types, else the legacy domain_alloc(type). The FQ bit never reaches the driver.
 */
export function __iommu_group_domain_alloc(dev: Device, type: number): DomainOrErr {
  const driver = dev.iommu.driver;
  const ops = dev.iommu.ops;
  const m = dev.machine;
  const allocType = type === IOMMU_DOMAIN_DMA_FQ ? IOMMU_DOMAIN_DMA : type;
  if (type === IOMMU_DOMAIN_IDENTITY && ops.identity_domain) return ops.identity_domain(m);
  if (type === IOMMU_DOMAIN_IDENTITY && ops.domain_alloc_identity) {
    const r = ops.domain_alloc_identity(dev);
    return typeof r === 'number' ? r : iommu_domain_init(r, type, driver);
  }
  if (type === IOMMU_DOMAIN_BLOCKED && ops.blocked_domain) return ops.blocked_domain(m);
  if ((type & 1) !== 0 && ops.domain_alloc_paging && m.profile.has('domain_alloc_paging')) {
    const r = ops.domain_alloc_paging(dev);
    return typeof r === 'number' ? r : iommu_domain_init(r, type, driver);
  }
  const domain = ops.domain_alloc?.(m, allocType);
  return domain ? iommu_domain_init(domain, type, driver) : -EOPNOTSUPP;
}

/** iommu_paging_domain_alloc(dev) (v6.11+): an UNMANAGED paging domain for dev, or an error. */
export function iommu_paging_domain_alloc(dev: Device): DomainOrErr {
  dev.machine.profile.require('iommu_paging_domain_alloc', 'iommu_paging_domain_alloc()');
  if (!dev.probed) return -ENODEV;
  return __iommu_group_domain_alloc(dev, IOMMU_DOMAIN_UNMANAGED);
}

/**
 * iommu_domain_alloc(bus) (legacy, removed in v6.13). v6.6 asks the bus's ops; after bus ops went
 * away (v6.8) the first device on the bus picks the driver. Either way a finalise-on-attach driver
 * returns a domain bound to no instance. null on failure.
 */
export function iommu_domain_alloc(machine: Machine, bus: Bus): IommuDomain | null {
  machine.profile.require('iommu_domain_alloc', 'iommu_domain_alloc()');
  if (machine.profile.has('bus_ops')) {
    // iommu_device_register set bus->iommu_ops on every bus: the one driver registered, whether
    // or not a device sits on this bus.
    const iommu = machine.iommus.find((i) => !i.probe_failure);
    const domain = iommu?.ops.domain_alloc?.(machine, IOMMU_DOMAIN_UNMANAGED) ?? null;
    return domain && iommu_domain_init(domain, IOMMU_DOMAIN_UNMANAGED, iommu!.driver);
  }
  // bus_for_each_dev(__iommu_domain_alloc_dev): the driver of the devices on the bus, which must
  // be one driver (WARN_ONCE, -EBUSY: NULL).
  const devs = machine.devices.filter((d) => d.bus === bus && d.probed);
  if (devs.length === 0) return null;
  const drivers = [...new Set(devs.map((d) => d.iommu.driver.name))];
  if (drivers.length > 1) {
    raise_check(
      machine,
      'multiple-iommu-drivers',
      `iommu_domain_alloc(${bus}): devices of ${drivers.join(' and ')} share the bus, which the public IOMMU API cannot support: NULL`,
    );
    return null;
  }
  const dev = devs[0];
  const ops = dev.iommu.ops;
  if (!ops.domain_alloc_paging || !machine.profile.has('domain_alloc_paging')) {
    const domain = ops.domain_alloc?.(machine, IOMMU_DOMAIN_UNMANAGED) ?? null;
    return domain && iommu_domain_init(domain, IOMMU_DOMAIN_UNMANAGED, dev.iommu.driver);
  }
  const r = __iommu_group_domain_alloc(dev, IOMMU_DOMAIN_UNMANAGED);
  return typeof r === 'number' ? null : r;
}

export function iommu_domain_free(domain: IommuDomain): void {
  if (domain.is_static || domain.freed) return;
  if (domain.devices.length)
    raise_check(
      domain.machine,
      'domain-freed-while-attached',
      `iommu_domain_free on domain ${domain.id} while ${domain.devices.map((d) => d.name).join(', ')} ${domain.devices.length === 1 ? 'is' : 'are'} attached to it: the group still points at it (a use after free), and a detach or attach through it can only fail now`,
    );
  domain.freed = true;
  domain.ops.free?.(domain);
  unregister_domain(domain);
  domain.machine.trace.emit(ev.domain_free, domain.id);
}
