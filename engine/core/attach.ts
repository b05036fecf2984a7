/** Attach, detach and DMA ownership (facts §1.5). */
import { raise_check } from './checks.ts';
import { IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_UNMANAGED } from './constants.ts';
import type { Device } from './device.ts';
import type { IommuDomain } from './domain.ts';
import { EBUSY, EINVAL, ENODEV, EPERM, errnoName } from './errno.ts';
import { __iommu_group_domain_alloc } from './alloc.ts';
import type { IommuGroup } from './group.ts';
import { check_resv_on_attach } from './map.ts';
import { ev } from './trace-events.ts';

function __iommu_attach_device(domain: IommuDomain, dev: Device): number {
  const attach = domain.ops.attach_dev;
  const ret = attach ? attach(domain, dev) : -ENODEV;
  // Some drivers' regions follow the device's domain (s390 from v6.15): ask again after any attach.
  dev.resv_regions = null;
  // Linux traces only an attach that succeeded; a failed one shows in the call's return.
  if (ret === 0)
    dev.machine.trace.emit(ev.attach_device_to_domain, dev.machine.trace.str(dev.name), domain.id);
  return ret;
}

export function __iommu_device_set_domain(group: IommuGroup, dev: Device, domain: IommuDomain): number {
  // A device with a DIRECT region must never lose its 1:1 mappings (facts §1.5 require_direct).
  if (dev.require_direct && (domain.type === IOMMU_DOMAIN_BLOCKED || domain === group.blocking_domain)) {
    raise_check(
      dev.machine,
      'require-direct-blocked',
      `${dev.name} has a direct region and cannot be attached to a blocking domain`,
    );
    return -EINVAL;
  }
  return __iommu_attach_device(domain, dev);
}

/** The bookkeeping of a group's change of domain: which devices each domain has attached. */
export function move_attachment(group: IommuGroup, to: IommuDomain | null): void {
  const from = group.domain;
  if (from) for (const dev of group.devices) from.devices.splice(from.devices.indexOf(dev), 1);
  if (to) to.devices.push(...group.devices);
  if (to) to.ever_attached = true;
  group.domain = to;
}

/**
 * Attach every device of the group. On a failure re-attach the previous domain to the devices
 * tried so far, the one that failed included (a driver may have detached it before failing:
 * __iommu_group_set_domain_internal's err_revert stops after last_gdev, not before it). With
 * `must_succeed` (IOMMU_SET_DOMAIN_MUST_SUCCEED: a failure is a WARN) the other devices are still
 * tried and the group moves anyway.
 */
export function __iommu_group_set_domain(
  group: IommuGroup,
  domain: IommuDomain,
  must_succeed = false,
): number {
  if (group.domain === domain) return 0;
  let result = 0;
  let tried = 0;
  for (const dev of group.devices) {
    tried++;
    const ret = __iommu_device_set_domain(group, dev, domain);
    if (ret === 0) continue;
    result = ret;
    if (must_succeed) {
      // Linux falls back to the blocking domain, where the group has one, to drop the old one.
      const blocking = group.blocking_domain;
      const fallback = blocking && blocking !== domain && __iommu_attach_device(blocking, dev) === 0;
      const where = fallback
        ? `is on the blocking domain ${blocking.id}`
        : group.domain
          ? 'may still translate through its old one'
          : 'has none (it was its first attach)';
      raise_check(
        dev.machine,
        'domain-switch-failed',
        `${dev.name} refused domain ${domain.id} (${errnoName(ret)}) in a switch that must succeed (IOMMU_SET_DOMAIN_MUST_SUCCEED): group ${group.id} now names that domain while the device ${where}`,
      );
      continue;
    }
    const old = group.domain;
    for (const d of group.devices.slice(0, tried)) {
      if (old) __iommu_attach_device(old, d);
      else d.iommu.ops.set_platform_dma_ops?.(d); // v6.6, a group without a domain yet
    }
    return ret;
  }
  move_attachment(group, domain);
  return result;
}

/** The blocking domain: the driver's static one, else an empty paging domain (v6.7+ behaviour). */
export function __iommu_group_alloc_blocking_domain(group: IommuGroup): number {
  if (group.blocking_domain) return 0;
  const dev = group.devices[0];
  let d = __iommu_group_domain_alloc(dev, IOMMU_DOMAIN_BLOCKED);
  if (typeof d === 'number') d = __iommu_group_domain_alloc(dev, IOMMU_DOMAIN_UNMANAGED);
  if (typeof d === 'number') return d;
  group.blocking_domain = d;
  return 0;
}

/** Back to the core's own domain: blocking while a DMA owner holds the group, else the default. */
export function __iommu_group_set_core_domain(group: IommuGroup): void {
  if (group.owner !== null && group.blocking_domain) {
    __iommu_group_set_domain(group, group.blocking_domain, true);
    return;
  }
  if (group.default_domain) {
    __iommu_group_set_domain(group, group.default_domain, true);
    return;
  }
  // v6.6 drivers without a default domain detach through set_platform_dma_ops.
  for (const dev of group.devices) dev.iommu.ops.set_platform_dma_ops?.(dev);
  move_attachment(group, null);
}

export function __iommu_attach_group(domain: IommuDomain, group: IommuGroup): number {
  if (group.domain && group.domain !== group.default_domain && group.domain !== group.blocking_domain)
    return -EBUSY;
  const dev = group.devices[0];
  if (dev.machine.profile.has('owner_check_on_attach') && domain.owner !== dev.iommu.driver) return -EINVAL;
  const ret = __iommu_group_set_domain(group, domain);
  if (ret === 0 && domain.type === IOMMU_DOMAIN_UNMANAGED) check_resv_on_attach(domain, group.devices);
  return ret;
}

export function iommu_attach_device(domain: IommuDomain, dev: Device): number {
  const group = dev.group;
  if (!group) return -ENODEV;
  if (group.devices.length !== 1) return -EINVAL;
  return __iommu_attach_group(domain, group);
}

export function iommu_attach_group(domain: IommuDomain, group: IommuGroup): number {
  return __iommu_attach_group(domain, group);
}

export function iommu_detach_device(domain: IommuDomain, dev: Device): void {
  const group = dev.group;
  if (!group) return;
  if (domain !== group.domain || group.devices.length !== 1) {
    raise_check(
      dev.machine,
      'detach-not-current-domain',
      `iommu_detach_device(domain ${domain.id}, ${dev.name}): ${domain !== group.domain ? 'not the current domain' : 'the group has more than one device'}`,
    );
    return;
  }
  __iommu_group_set_core_domain(group);
}

export function iommu_detach_group(domain: IommuDomain, group: IommuGroup): void {
  // Linux ignores `domain` here (no WARN, unlike iommu_detach_device): the group goes back to its
  // core domain whatever was passed. The lab still names the mismatch, a likely caller bug.
  if (domain !== group.domain)
    raise_check(
      group.devices[0].machine,
      'detach-not-current-domain',
      `iommu_detach_group: domain ${domain.id} is not group ${group.id}'s current domain; the group goes back to its ${group.owner_cnt ? 'blocking' : 'default'} domain all the same`,
    );
  __iommu_group_set_core_domain(group);
}

/** iommu_device_claim_dma_owner: take the group away from the DMA API (VFIO, iommufd). */
export function iommu_device_claim_dma_owner(dev: Device, owner: unknown): number {
  // The owner is a pointer in Linux: null, undefined and 0 are all NULL.
  if (owner === null || owner === undefined || owner === 0) {
    raise_check(
      dev.machine,
      'dma-ownership-misuse',
      `iommu_device_claim_dma_owner(${dev.name}) without an owner: WARN_ON(!owner), -EINVAL`,
    );
    return -EINVAL;
  }
  const group = dev.group;
  if (!group) return -ENODEV;
  if (group.owner_cnt) {
    if (group.owner !== owner) return -EPERM;
    group.owner_cnt++;
    return 0;
  }
  if (group.domain && group.domain !== group.default_domain) return -EBUSY;
  let ret = __iommu_group_alloc_blocking_domain(group);
  if (ret) return ret;
  ret = __iommu_group_set_domain(group, group.blocking_domain!);
  if (ret) return ret;
  group.owner = owner;
  group.owner_cnt++;
  return 0;
}

export function iommu_device_release_dma_owner(dev: Device): void {
  const group = dev.group;
  if (!group) return;
  if (!group.owner_cnt) {
    raise_check(
      dev.machine,
      'dma-ownership-misuse',
      `iommu_device_release_dma_owner(${dev.name}): group ${group.id} has no DMA owner: WARN_ON(!group->owner_cnt), nothing released`,
    );
    return;
  }
  if (group.owner_cnt > 1) {
    group.owner_cnt--;
    return;
  }
  group.owner_cnt = 0;
  group.owner = null;
  // __iommu_group_set_domain_nofail(group, group->default_domain): with no default domain (v6.6
  // omap, tegra-gart, s390) that is the NULL domain, set_platform_dma_ops.
  __iommu_group_set_core_domain(group);
}
