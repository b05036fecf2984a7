/** Adding a device: probe, group, default domain, direct mappings, attach (facts §1.5). */
import { __iommu_group_domain_alloc, iommu_domain_free } from './alloc.ts';
import { __iommu_device_set_domain, __iommu_group_set_domain, move_attachment } from './attach.ts';
import { raise_check } from './checks.ts';
import {
  IOMMU_DOMAIN_BLOCKED,
  IOMMU_DOMAIN_DMA,
  IOMMU_DOMAIN_DMA_FQ,
  IOMMU_DOMAIN_IDENTITY,
  domainTypeName,
} from './constants.ts';
import { Device, type Bus, type DefaultDomainRequest } from './device.ts';
import { iommu_create_device_direct_mappings } from './direct-mappings.ts';
import type { IommuDomain } from './domain.ts';
import { errnoName } from './errno.ts';
import { IommuGroup } from './group.ts';
import type { IommuDevice } from './iommu-device.ts';
import type { Machine } from './machine.ts';
import type { ResvRegion } from './resv.ts';
import { ev } from './trace-events.ts';

export interface DeviceOptions {
  resv: readonly ResvRegion[];
  group: string | null;
  bus: Bus;
  trusted: boolean;
  default_domain: DefaultDomainRequest | null;
}

const REQUEST_TYPES: Record<DefaultDomainRequest, number> = {
  identity: IOMMU_DOMAIN_IDENTITY,
  dma: IOMMU_DOMAIN_DMA,
  'dma-fq': IOMMU_DOMAIN_DMA_FQ,
  blocked: IOMMU_DOMAIN_BLOCKED,
};

/** Probe a new device behind `iommu`, as Linux's iommu_probe_device does. Throws on what Linux would refuse. */
export function iommu_probe_device(
  machine: Machine,
  name: string,
  iommu: IommuDevice,
  o: DeviceOptions,
): Device {
  const dev = new Device(machine, name, iommu, o.bus, o.resv, o.trusted, o.group, o.default_domain);
  const ret = iommu.ops.probe_device(dev);
  if (ret)
    throw new Error(
      `${iommu.driver.name} did not take ${name}: probe_device returned ${errnoName(ret) ?? ret}` +
        (iommu.probe_failure ? ` (${iommu.name}: ${iommu.probe_failure})` : ''),
    );
  machine.devices.push(dev);

  const groupName = iommu.driver.device_group?.(iommu) ?? o.group;
  let group = groupName === null ? undefined : machine.groups.find((g) => g.name === groupName);
  if (group && group.devices[0].iommu !== iommu)
    throw new Error(
      `group '${groupName}' is behind ${group.devices[0].iommu.name}; ${name} is behind ${iommu.name} — a group never spans IOMMUs`,
    );
  const isNew = !group;
  group ??= new IommuGroup(machine.next_group_id++, groupName);
  if (isNew) machine.groups.push(group);
  group.devices.push(dev);
  dev.group = group;
  dev.probed = true;
  machine.trace.emit(ev.add_device_to_group, group.id, machine.trace.str(name));

  if (isNew) {
    try {
      iommu_setup_default_domain(group);
    } catch (e) {
      remove_failed_probe(dev, group);
      throw e;
    }
  } else {
    // A hot-added device gets its direct mappings in the existing default domain, then joins the
    // group's domain: whatever domain that is, also where v6.6 left the group without a default one.
    if (group.default_domain) iommu_create_device_direct_mappings(group.default_domain, dev);
    if (group.domain) {
      const r = __iommu_device_set_domain(group, dev, group.domain);
      if (r) {
        remove_failed_probe(dev, group);
        throw new Error(
          `${name} cannot join group ${group.id}: attaching it to the group's ${domainTypeName(group.domain.type)} ` +
            `domain ${group.domain.id} failed (${errnoName(r) ?? r}), so its probe fails`,
        );
      }
      group.domain.devices.push(dev);
    }
  }
  if (!isNew) {
    const first = group.devices[0].name;
    const got = group.default_domain?.type ?? null;
    note_requests_not_met(
      group,
      got,
      `it joined group ${group.id}, whose default domain was chosen when ${first} was probed (a device added later takes the group's)`,
      dev,
    );
    // The untrusted rule (strict DMA, §1.5 step 2) is applied at a group's first probe only.
    if (dev.bus === 'pci' && !dev.trusted && (got === IOMMU_DOMAIN_IDENTITY || got === IOMMU_DOMAIN_DMA_FQ))
      raise_check(
        machine,
        'default-domain-overridden',
        `${name} is untrusted but joined group ${group.id}, whose ${domainTypeName(got)} default domain was ` +
          `chosen when ${first} was probed: it does not get the strict DMA domain an untrusted device is given`,
      );
  }
  return dev;
}

/**
 * iommu_get_def_domain_type over the group: the driver's or the script's wish, untrusted forcing
 * DMA. null is "no preference" (IOMMU_DOMAIN_BLOCKED is 0, so 0 cannot mean that here).
 */
function requested_type(group: IommuGroup): number | null {
  const first = group.devices[0];
  // 32-bit Arm (ARM_DMA_USE_IOMMU, no IOMMU_DMA) starts from IDENTITY from v6.7, so a device's
  // wish for anything else conflicts with it, and identity wins (iommu_get_default_domain_type).
  const arm32 = first.iommu.driver.arch === 'arm' && first.machine.profile.has('default_domain_required');
  let type: number | null = arm32 ? IOMMU_DOMAIN_IDENTITY : null;
  for (const dev of group.devices) {
    let t: number | null = dev.iommu.ops.def_domain_type?.(dev) || null;
    const asked = dev.default_domain_request;
    if (asked) t = REQUEST_TYPES[asked];
    if (arm32 && dev.bus === 'pci' && !dev.trusted)
      throw new Error(
        `${dev.name} is untrusted, which no 32-bit Arm system can serve (ARM_DMA_USE_IOMMU): Linux WARNs and refuses to probe it`,
      );
    // An untrusted device gets DMA (strict): from v6.7 Linux refuses to probe when the driver or
    // the requested type wants identity or blocked (v6.6 gives DMA before asking); a lazy
    // request becomes strict DMA.
    if (dev.bus === 'pci' && !dev.trusted) {
      const refused = t === IOMMU_DOMAIN_IDENTITY || t === IOMMU_DOMAIN_BLOCKED;
      if (refused && first.machine.profile.has('untrusted_refuses_identity'))
        throw new Error(
          `${dev.name} is untrusted, but ${asked ? `default_domain '${asked}' asks for` : 'its driver requires'} ` +
            `${asked === 'blocked' ? 'a blocked' : 'an identity'} domain: Linux refuses to probe it (an untrusted device gets DMA)`,
        );
      t = IOMMU_DOMAIN_DMA;
    }
    if (t !== null && type !== null && t !== type)
      type = IOMMU_DOMAIN_IDENTITY; // Linux logs the conflict; identity wins
    else if (t !== null) type = t;
  }
  return type;
}

/**
 * iommu_set_dma_strict(): a driver found an IOTLB that lazy flushing would make slow or unsafe
 * (a virtualised one that shadows the tables: Intel caching mode, AMD NpCache), so default DMA
 * domains probed from now on are strict DMA instead of DMA-FQ, whatever the arch's Kconfig says.
 */
export function iommu_set_dma_strict(m: Machine, driver: string, why: string): void {
  m.iommu_strict = true;
  m.dma_strict_forced_by = driver;
  m.trace.emit(ev.set_dma_strict, m.trace.str(driver), m.trace.str(why));
}

function global_default_type(group: IommuGroup): number {
  const m = group.devices[0].machine;
  if (m.iommu_passthrough) return IOMMU_DOMAIN_IDENTITY;
  // Kconfig: IOMMU_DEFAULT_DMA_LAZY on x86 and s390, IOMMU_DEFAULT_DMA_STRICT elsewhere.
  const arch = group.devices[0].iommu.driver.arch;
  // Without CONFIG_IOMMU_DMA (32-bit Arm) the default is IDENTITY (facts §1.5, type selection step 3).
  if (arch === 'arm') return IOMMU_DOMAIN_IDENTITY;
  const strict = m.iommu_strict ?? !(arch === 'x86' || arch === 's390');
  return strict ? IOMMU_DOMAIN_DMA : IOMMU_DOMAIN_DMA_FQ;
}

function iommu_setup_default_domain(group: IommuGroup): void {
  const dev = group.devices[0];
  const m = dev.machine;
  const req = requested_type(group);
  let type = req ?? global_default_type(group);
  const anyUntrusted = group.devices.some((d) => d.bus === 'pci' && !d.trusted);
  // A lazy request stands for iommu.strict=0, which a driver's iommu_set_dma_strict overrides.
  if (
    type === IOMMU_DOMAIN_DMA_FQ &&
    (!dev.iommu.ops.deferred_flush?.(dev) || anyUntrusted || m.dma_strict_forced_by)
  )
    type = IOMMU_DOMAIN_DMA;

  let dom = __iommu_group_domain_alloc(dev, type);
  if (typeof dom === 'number' && req === null && type !== IOMMU_DOMAIN_DMA)
    dom = __iommu_group_domain_alloc(dev, IOMMU_DOMAIN_DMA);
  if (typeof dom === 'number') {
    // v6.6 leaves the device without a default domain (its platform drivers have none); from
    // v6.7 iommu_setup_default_domain's error fails the probe.
    if (!m.profile.has('default_domain_required')) {
      note_requests_not_met(
        group,
        null,
        `${dev.iommu.driver.name}'s domain_alloc returned NULL for it and v6.6 probes the device without one`,
      );
      return;
    }
    const tried =
      req === null && type !== IOMMU_DOMAIN_DMA ? `, nor a ${domainTypeName(IOMMU_DOMAIN_DMA)} one` : '';
    throw new Error(
      `${dev.iommu.driver.name} cannot allocate ${req === null ? 'a' : 'the requested'} ${domainTypeName(type)} ` +
        `default domain for ${dev.name}${tried} (${errnoName(dom) ?? dom}): from v6.7 a device behind an ` +
        `IOMMU must have one, so its probe fails`,
    );
  }
  const domain: IommuDomain = dom;
  note_requests_not_met(group, domain.type, why_not_requested(group, domain.type));

  const failed = group.devices.filter((d) => iommu_create_device_direct_mappings(domain, d) !== 0);
  group.default_domain = domain;
  const fail = (why: string): never => {
    group.default_domain = null;
    // The probe's unwinding releases the device before the group's last reference frees the
    // domain (iommu_deinit_device): nothing is attached to it when it is freed.
    if (group.domain === domain) move_attachment(group, null);
    iommu_domain_free(domain);
    throw new Error(
      `${dev.name}'s ${domainTypeName(domain.type)} default domain: ${why}, so the probe fails`,
    );
  };
  const ret = __iommu_group_set_domain(group, domain, true);
  // The core's own refusal (__iommu_device_set_domain): a device whose firmware asks for 1:1 mappings.
  const direct =
    domain.type === IOMMU_DOMAIN_BLOCKED ? group.devices.find((d) => d.require_direct) : undefined;
  if (ret && direct)
    fail(
      `the core refuses it (${errnoName(ret) ?? ret}): ${direct.name} has a direct region, and firmware that asks for 1:1 mappings rules out a blocking domain`,
    );
  // "Drivers are not allowed to fail the first domain attach": Linux WARNs.
  if (ret)
    fail(
      `${dev.iommu.driver.name} failed its first attach (${errnoName(ret) ?? ret}), which a driver may not do`,
    );
  for (const d of failed) {
    // The retry after attach (for drivers that finalise there); what fails again fails the probe.
    const again = iommu_create_device_direct_mappings(domain, d);
    if (again)
      fail(
        `${d.name}'s direct mappings failed before the attach and again after it (${errnoName(again) ?? again})`,
      );
    raise_check(
      m,
      'direct-mapping-after-attach',
      `${d.name}'s direct mappings failed before its ${domainTypeName(domain.type)} default domain was attached; the core mapped them after attach, leaving a window without them`,
    );
  }
}

/**
 * A device's `default_domain` request that the type selection overrode (IOMMU-FACTS §1.5) is said
 * aloud: Linux logs the conflict or applies its rule quietly, and the lab's user asked explicitly.
 */
function note_requests_not_met(group: IommuGroup, got: number | null, why: string, only?: Device): void {
  for (const d of only ? [only] : group.devices) {
    const asked = d.default_domain_request;
    if (!asked || REQUEST_TYPES[asked] === got) continue;
    raise_check(
      d.machine,
      'default-domain-overridden',
      `${d.name} asked for a${asked === 'identity' ? 'n' : ''} ${asked} default domain but ` +
        `${got === null ? 'has none' : `got ${domainTypeName(got)}`}: ${why}`,
    );
  }
}

/** Which rule of the default type selection chose `got` over a request. */
function why_not_requested(group: IommuGroup, got: number): string {
  const dev = group.devices[0];
  const untrusted = group.devices.some((d) => d.bus === 'pci' && !d.trusted);
  const strictWish = (d: Device) =>
    d.bus === 'pci' &&
    !d.trusted &&
    (d.default_domain_request === 'identity' || d.default_domain_request === 'blocked');
  if (got === IOMMU_DOMAIN_DMA && group.devices.some(strictWish))
    return 'v6.6 gives an untrusted device DMA before it asks its driver or a wish (iommu_get_def_domain_type)';
  if (got === IOMMU_DOMAIN_DMA && group.devices.some((d) => d.default_domain_request === 'dma-fq'))
    return untrusted
      ? 'an untrusted device in the group keeps its DMA domain strict'
      : !dev.iommu.ops.deferred_flush?.(dev)
        ? `${dev.iommu.driver.name} does not report IOMMU_CAP_DEFERRED_FLUSH, so DMA_FQ becomes DMA`
        : `${dev.machine.dma_strict_forced_by} made DMA domains strict (iommu_set_dma_strict), which overrides a lazy wish as it overrides iommu.strict=0`;
  if (dev.iommu.driver.arch === 'arm' && got === IOMMU_DOMAIN_IDENTITY)
    return 'from v6.7 32-bit Arm (no IOMMU_DMA) starts from IDENTITY, and IDENTITY wins a conflict';
  return "the group's devices and driver ask for different types, and IDENTITY wins the conflict (iommu_get_def_domain_type)";
}

/** __iommu_probe_device's error path: the device leaves its group (a new group goes too) and the driver. */
function remove_failed_probe(dev: Device, group: IommuGroup): void {
  const m = dev.machine;
  group.devices.splice(group.devices.indexOf(dev), 1);
  m.trace.emit(ev.remove_device_from_group, group.id, m.trace.str(dev.name));
  if (group.devices.length === 0) {
    m.groups.splice(m.groups.indexOf(group), 1);
    if (group.id === m.next_group_id - 1) m.next_group_id--; // the group ID goes back to the IDA
  }
  m.devices.splice(m.devices.indexOf(dev), 1);
  dev.group = null;
  dev.probed = false;
  dev.iommu.ops.release_device?.(dev);
}
