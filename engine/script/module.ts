/**
 * createLabModule: the `iommu-lab` module a script imports, over a fresh lab, and the session the
 * host keeps after the run (steps, checks, trace, and time travel over the recorded calls).
 *
 * The export list is typed against iommu-lab.d.ts in both directions: a name declared there and
 * missing here, or exported here and not declared there, fails the type check.
 */
import * as C from '../core/constants.ts';
import * as E from '../core/errno.ts';
import { DEFAULT_KERNEL, isKernelName, KERNEL_NAMES } from '../core/kernel-profile.ts';
import { Trace } from '../trace/trace.ts';
import type * as Api from './iommu-lab.d.ts';
import { LabContext, type LabOptions } from './lab-context.ts';
import { LabSession } from './session.ts';
import { describe, u64 } from './args.ts';

export interface LabModuleOptions {
  kernel?: string;
  seed?: number;
  params?: Record<string, string>;
  fixedKernel?: boolean;
  disabledChecks?: string[];
}

type ModuleExports = Omit<typeof Api, 'expect'>;

export function labOptions(opts: LabModuleOptions): LabOptions {
  const kernel = opts.kernel ?? DEFAULT_KERNEL;
  if (!isKernelName(kernel))
    throw new Error(`unknown kernel profile ${describe(kernel)}; the lab models ${KERNEL_NAMES.join(', ')}`);
  return {
    kernel,
    seed: opts.seed ?? 0,
    params: Object.freeze({ ...(opts.params ?? {}) }),
    fixedKernel: opts.fixedKernel ?? false,
    disabledChecks: opts.disabledChecks ?? [],
  };
}

export function createLabModule(opts: LabModuleOptions): {
  exports: Record<string, unknown>;
  session: LabSession;
} {
  const options = labOptions(opts);
  const ctx = new LabContext(options, new Trace(), true);
  const fn = <K extends keyof ModuleExports>(name: K) => ctx.fn(name) as unknown as ModuleExports[K];

  const lab = {
    kernel: ctx.fn('lab.kernel'),
    cmdline: ctx.fn('lab.cmdline'),
    add_iommu: ctx.fn('lab.add_iommu'),
    add_device: ctx.fn('lab.add_device'),
    bus: ctx.fn('lab.bus'),
    mem: Object.freeze({
      alloc: ctx.fn('lab.mem.alloc'),
      write: ctx.fn('lab.mem.write'),
      read: ctx.fn('lab.mem.read'),
    }),
    params: options.params,
    seed: ctx.fn('lab.seed'),
    random: ctx.fn('lab.random'),
    advance_time: ctx.fn('lab.advance_time'),
    now: ctx.fn('lab.now'),
    checks: ctx.fn('lab.checks'),
    trace: ctx.fn('lab.trace'),
    fail_nth_alloc: ctx.fn('lab.fail_nth_alloc'),
  } as unknown as Api.Lab;

  const isErr = (x: unknown): x is Api.ErrPtr => ctx.handles.isErrPtr(x);
  const exports: ModuleExports = {
    lab,
    iommu_paging_domain_alloc: fn('iommu_paging_domain_alloc'),
    iommu_domain_alloc: fn('iommu_domain_alloc'),
    iommu_domain_free: fn('iommu_domain_free'),
    iommu_attach_device: fn('iommu_attach_device'),
    iommu_detach_device: fn('iommu_detach_device'),
    iommu_attach_group: fn('iommu_attach_group'),
    iommu_detach_group: fn('iommu_detach_group'),
    iommu_group_get: fn('iommu_group_get'),
    iommu_get_domain_for_dev: fn('iommu_get_domain_for_dev'),
    iommu_device_claim_dma_owner: fn('iommu_device_claim_dma_owner'),
    iommu_device_release_dma_owner: fn('iommu_device_release_dma_owner'),
    iommu_map: fn('iommu_map'),
    iommu_map_sg: fn('iommu_map_sg'),
    iommu_unmap: fn('iommu_unmap'),
    iommu_iotlb_gather_init: fn('iommu_iotlb_gather_init'),
    iommu_unmap_fast: fn('iommu_unmap_fast'),
    iommu_iotlb_sync: fn('iommu_iotlb_sync'),
    iommu_flush_iotlb_all: fn('iommu_flush_iotlb_all'),
    iommu_iova_to_phys: fn('iommu_iova_to_phys'),
    iommu_get_resv_regions: fn('iommu_get_resv_regions'),
    iommu_get_group_resv_regions: fn('iommu_get_group_resv_regions'),
    iommu_pgsize: fn('iommu_pgsize'),
    IS_ERR: isErr,
    // As include/linux/err.h casts both ways: PTR_ERR(NULL) is 0 and ERR_PTR(0) is NULL.
    PTR_ERR: (x: Api.ErrPtr | null) => {
      if (x === null) return 0;
      if (!isErr(x)) throw new TypeError(`PTR_ERR() takes an error pointer or null (got ${describe(x)})`);
      return x.__err_ptr;
    },
    ERR_PTR: ((e: number) => {
      if (e === 0) return null;
      if (typeof e !== 'number' || !Number.isInteger(e) || e > 0 || e < -4095)
        throw new RangeError(`ERR_PTR() takes a negative errno from -1 to -4095, or 0 (got ${describe(e)})`);
      return ctx.handles.errPtr(e) as Api.ErrPtr;
    }) as typeof Api.ERR_PTR,
    IS_ERR_OR_NULL: (x: unknown): x is Api.ErrPtr | null | undefined =>
      x === null || x === undefined || isErr(x),
    dma_map_single: fn('dma_map_single'),
    dma_unmap_single: fn('dma_unmap_single'),
    dma_map_sg: fn('dma_map_sg'),
    dma_unmap_sg: fn('dma_unmap_sg'),
    dma_alloc_coherent: fn('dma_alloc_coherent'),
    dma_free_coherent: fn('dma_free_coherent'),
    dma_mapping_error: (dev: Api.Device, addr: number) => {
      ctx.device(dev);
      return u64('dma_addr', addr) === C.DMA_MAPPING_ERROR ? -E.ENOMEM : 0;
    },
    dma_set_mask_and_coherent: fn('dma_set_mask_and_coherent'),
    DMA_BIT_MASK: (n: number) => {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 64)
        throw new RangeError(
          `DMA_BIT_MASK() takes a number of address bits from 0 to 64 (got ${describe(n)})`,
        );
      return C.DMA_BIT_MASK(n);
    },

    IOMMU_READ: C.IOMMU_READ,
    IOMMU_WRITE: C.IOMMU_WRITE,
    IOMMU_CACHE: C.IOMMU_CACHE,
    IOMMU_NOEXEC: C.IOMMU_NOEXEC,
    IOMMU_MMIO: C.IOMMU_MMIO,
    IOMMU_PRIV: C.IOMMU_PRIV,
    IOMMU_DOMAIN_BLOCKED: C.IOMMU_DOMAIN_BLOCKED,
    IOMMU_DOMAIN_IDENTITY: C.IOMMU_DOMAIN_IDENTITY as 4,
    IOMMU_DOMAIN_UNMANAGED: C.IOMMU_DOMAIN_UNMANAGED as 1,
    IOMMU_DOMAIN_DMA: C.IOMMU_DOMAIN_DMA as 3,
    IOMMU_DOMAIN_DMA_FQ: C.IOMMU_DOMAIN_DMA_FQ as 0xb,
    IOMMU_RESV_DIRECT: C.IOMMU_RESV_DIRECT,
    IOMMU_RESV_DIRECT_RELAXABLE: C.IOMMU_RESV_DIRECT_RELAXABLE,
    IOMMU_RESV_RESERVED: C.IOMMU_RESV_RESERVED,
    IOMMU_RESV_MSI: C.IOMMU_RESV_MSI,
    IOMMU_RESV_SW_MSI: C.IOMMU_RESV_SW_MSI,
    ...(C.SIZES as Pick<ModuleExports, `SZ_${string}` & keyof ModuleExports>),
    EPERM: E.EPERM,
    ENOENT: E.ENOENT,
    EIO: E.EIO,
    ENOMEM: E.ENOMEM,
    EFAULT: E.EFAULT,
    EBUSY: E.EBUSY,
    EEXIST: E.EEXIST,
    ENODEV: E.ENODEV,
    EINVAL: E.EINVAL,
    ENOSPC: E.ENOSPC,
    ERANGE: E.ERANGE,
    ENOSYS: E.ENOSYS,
    EOPNOTSUPP: E.EOPNOTSUPP,
    DMA_MAPPING_ERROR: C.DMA_MAPPING_ERROR,
    DMA_BIDIRECTIONAL: C.DMA_BIDIRECTIONAL,
    DMA_TO_DEVICE: C.DMA_TO_DEVICE,
    DMA_FROM_DEVICE: C.DMA_FROM_DEVICE,
  };
  return { exports: exports as unknown as Record<string, unknown>, session: new LabSession(ctx) };
}
