/**
 * The software IO TLB (kernel/dma/swiotlb.c): the bounce buffers dma-iommu puts in place of a buffer
 * that an untrusted device maps without filling its IOVA granules (bounce.ts), so the device never
 * reaches the rest of the buffer's page.
 *
 * One default pool (io_tlb_default_mem) of IO_TLB_DEFAULT_SIZE in slots of IO_TLB_SIZE, in RAM below
 * 4 GiB (memblock_alloc_low). Linux sets it up at boot; the lab sets it up on the first bounce, so a
 * lab that never bounces keeps its memory layout. The lab models one CPU, so the pool has one area
 * (swiotlb_adjust_nareas(num_possible_cpus())). The pool lives in the machine's globals, so
 * checkpoints copy it with the rest of the state.
 *
 * Slot bookkeeping as swiotlb.c has it: a slot's `list` counts the free slots from it to the end of
 * its IO_TLB_SEGSIZE segment (so no mapping crosses a segment), the search is next-fit from the
 * area's index, and each used slot keeps the original address and the allocation size left from it
 * (struct io_tlb_slot), which the copy back and the release read. The lab's devices have no
 * min_align_mask, so a bounce buffer starts at the start of its first slot.
 */
import { DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE } from '../core/constants.ts';
import type { Device } from '../core/device.ts';
import type { Machine } from '../core/machine.ts';
import { PAGE_SIZE } from '../mem/phys-mem.ts';
import { ev } from './trace-events.ts';

export const IO_TLB_SHIFT = 11;
/** One slot: 2 KiB. */
export const IO_TLB_SIZE = 1 << IO_TLB_SHIFT;
/** Slots per segment: the most one mapping can take (256 KiB, swiotlb_max_mapping_size). */
export const IO_TLB_SEGSIZE = 128;
/** The default pool: 64 MiB (include/linux/swiotlb.h IO_TLB_DEFAULT_SIZE). */
export const IO_TLB_DEFAULT_SIZE = 64 << 20;
/** The smallest pool swiotlb_init_remap settles for while it halves a request that failed: 1 MiB. */
const IO_TLB_MIN_SLABS = (1 << 20) >> IO_TLB_SHIFT;
/** memblock_alloc_low: the pool must be reachable by 32-bit devices. */
const ARCH_LOW_ADDRESS_LIMIT = 0x1_0000_0000;

/** struct io_tlb_slot of a slot in use (a free slot has INVALID_PHYS_ADDR and no entry). */
export class IoTlbSlot {
  constructor(
    readonly orig_addr: number,
    /** Bytes of the allocation from this slot to its end. */
    readonly alloc_size: number,
  ) {}
}

/** struct io_tlb_pool with its single area. */
export class IoTlbPool {
  /** slots[i].list */
  readonly list: number[];
  /** Slots in use, by index. */
  readonly slots = new Map<number, IoTlbSlot>();
  /** area->index: where the next search starts. */
  index = 0;
  /** area->used */
  used = 0;

  constructor(
    readonly start: number,
    readonly nslabs: number,
  ) {
    this.list = [];
    for (let i = 0; i < nslabs; i++) this.list.push(IO_TLB_SEGSIZE - io_tlb_offset(i));
  }

  get end(): number {
    return this.start + this.nslabs * IO_TLB_SIZE;
  }
}

function io_tlb_offset(i: number): number {
  return i & (IO_TLB_SEGSIZE - 1);
}

function nr_slots(size: number): number {
  return Math.ceil(size / IO_TLB_SIZE);
}

function wrap_area_index(pool: IoTlbPool, index: number): number {
  return index >= pool.nslabs ? 0 : index;
}

const GLOBALS = 'swiotlb';

/**
 * io_tlb_default_mem, set up on first use as swiotlb_init_remap does at boot: 64 MiB, halved while
 * the allocation fails, down to 1 MiB; null (swiotlb inactive) when even that fails. Tried once.
 */
function io_tlb_default_mem(m: Machine): IoTlbPool | null {
  const g = m.globals(GLOBALS);
  if (g.pool !== undefined) return g.pool as IoTlbPool | null;
  let pool: IoTlbPool | null = null;
  for (let nslabs = IO_TLB_DEFAULT_SIZE >> IO_TLB_SHIFT; nslabs >= IO_TLB_MIN_SLABS; nslabs >>= 1) {
    const start = m.mem.alloc_pages(nslabs * IO_TLB_SIZE, PAGE_SIZE, ARCH_LOW_ADDRESS_LIMIT);
    if (start) {
      pool = new IoTlbPool(start, nslabs);
      m.trace.emit(ev.swiotlb_init, start, nslabs * IO_TLB_SIZE);
      break;
    }
  }
  g.pool = pool;
  return pool;
}

/** is_swiotlb_active: the pool exists (setting it up if this is the first use). */
export function is_swiotlb_active(m: Machine): boolean {
  return io_tlb_default_mem(m) !== null;
}

/** is_swiotlb_buffer: `phys` lies in the pool. Never sets the pool up. */
export function is_swiotlb_buffer(m: Machine, phys: number): boolean {
  const pool = m.globals(GLOBALS).pool as IoTlbPool | null | undefined;
  return !!pool && phys >= pool.start && phys < pool.end;
}

/** The pool, for panels and tests: null before the first bounce (or when it could not be set up). */
export function swiotlb_pool(m: Machine): IoTlbPool | null {
  return (m.globals(GLOBALS).pool as IoTlbPool | null | undefined) ?? null;
}

/**
 * swiotlb_area_find_slots: the first slot of `alloc_size` bytes of free slots, or -1. Each era's
 * alignment rule (kernel-profile swiotlb_alloc_align_fix):
 * - from v6.9 the first slot starts on `alloc_align_mask`;
 * - before, alloc_align_mask (and PAGE_SIZE - 1 for allocations of a page or more) was merged into
 *   the mask whose bits above IO_TLB_SIZE the slot must share with orig_addr: with a 4 KiB granule a
 *   buffer at offset 0x800 or more in its page gets a slot at offset 0x800 of a pool page.
 * The segment-boundary check (iommu_is_span_boundary) never fires: the pool lies below 4 GiB, inside
 * one PCI segment.
 */
function swiotlb_area_find_slots(
  m: Machine,
  pool: IoTlbPool,
  orig_addr: number,
  alloc_size: number,
  alloc_align_mask: number,
): number {
  const nslots = nr_slots(alloc_size);
  let slot_mask: number;
  let orig_mask: number;
  if (m.profile.has('swiotlb_alloc_align_fix')) {
    slot_mask = alloc_align_mask | (IO_TLB_SIZE - 1);
    orig_mask = 0; // dma_get_min_align_mask(dev) & ~alloc_align_mask: no min_align_mask here
  } else {
    slot_mask = 0;
    orig_mask = alloc_align_mask | (alloc_size >= PAGE_SIZE ? PAGE_SIZE - 1 : 0);
    orig_mask &= ~(IO_TLB_SIZE - 1);
  }
  // Once on an aligned slot, step from aligned slot to aligned slot.
  const stride = (Math.max(slot_mask, orig_mask) >> IO_TLB_SHIFT) + 1;
  if (nslots > pool.nslabs - pool.used) return -1;
  let index = pool.index;
  for (let checked = 0; checked < pool.nslabs;) {
    const tlb_addr = pool.start + index * IO_TLB_SIZE;
    if (tlb_addr & slot_mask || (orig_addr && (tlb_addr & orig_mask) !== (orig_addr & orig_mask))) {
      index = wrap_area_index(pool, index + 1);
      checked++;
      continue;
    }
    if (pool.list[index] >= nslots) {
      for (let i = index; i < index + nslots; i++) pool.list[i] = 0;
      let count = 0;
      for (let i = index - 1; io_tlb_offset(i) !== IO_TLB_SEGSIZE - 1 && pool.list[i]; i--)
        pool.list[i] = ++count;
      pool.index = wrap_area_index(pool, index + nslots);
      pool.used += nslots;
      return index;
    }
    index = wrap_area_index(pool, index + stride);
    checked += stride;
  }
  return -1;
}

/**
 * swiotlb_bounce: copy between the original buffer and the bounce buffer at tlb_addr, through the
 * slot's record; `size` is cut to what the allocation holds from tlb_addr (Linux WARNs "Buffer
 * overflow detected" and copies that much).
 */
function swiotlb_bounce(dev: Device, pool: IoTlbPool, tlb_addr: number, size: number, dir: number): void {
  const index = Math.floor((tlb_addr - pool.start) / IO_TLB_SIZE);
  const slot = pool.slots.get(index);
  if (!slot) return; // INVALID_PHYS_ADDR: nothing to copy
  const tlb_offset = (tlb_addr - pool.start) % IO_TLB_SIZE;
  if (tlb_offset > slot.alloc_size) return;
  const orig_addr = slot.orig_addr + tlb_offset;
  size = Math.min(size, slot.alloc_size - tlb_offset);
  const m = dev.machine;
  if (dir === DMA_TO_DEVICE) m.mem.write(tlb_addr, m.mem.read(orig_addr, size));
  else m.mem.write(orig_addr, m.mem.read(tlb_addr, size));
  const t = m.trace;
  t.emit(
    ev.swiotlb_bounce,
    t.str(dev.name),
    orig_addr,
    tlb_addr,
    size,
    t.str(dir === DMA_TO_DEVICE ? 'device' : 'cpu'),
  );
}

/**
 * swiotlb_tbl_map_single: a bounce buffer for [orig_addr, orig_addr + mapping_size), its size rounded
 * up to alloc_align_mask + 1, filled with the original data whatever the direction (since v5.18,
 * "Reinstate some of 'swiotlb: rework "fix info leak with DMA_FROM_DEVICE"'": a device that writes
 * only part of the buffer must leave the rest as it was). The padding is not touched: dma-iommu
 * zeroes it. Returns the bounce buffer's physical address, or DMA_MAPPING_ERROR when the pool has
 * no room ("swiotlb buffer is full").
 */
export function swiotlb_tbl_map_single(
  dev: Device,
  orig_addr: number,
  mapping_size: number,
  alloc_align_mask: number,
): number {
  const m = dev.machine;
  const pool = io_tlb_default_mem(m);
  if (!pool) return DMA_MAPPING_ERROR;
  const alloc_size = Math.ceil(mapping_size / (alloc_align_mask + 1)) * (alloc_align_mask + 1);
  const index = swiotlb_area_find_slots(m, pool, orig_addr, alloc_size, alloc_align_mask);
  const tlb_addr = index < 0 ? DMA_MAPPING_ERROR : pool.start + index * IO_TLB_SIZE;
  const t = m.trace;
  t.emit(ev.swiotlb_find_slots, t.str(dev.name), orig_addr, tlb_addr, alloc_size, pool.used);
  if (index < 0) return DMA_MAPPING_ERROR;
  for (let i = 0; i < nr_slots(alloc_size); i++)
    pool.slots.set(index + i, new IoTlbSlot(orig_addr + i * IO_TLB_SIZE, alloc_size - i * IO_TLB_SIZE));
  swiotlb_bounce(dev, pool, tlb_addr, mapping_size, DMA_TO_DEVICE);
  return tlb_addr;
}

/**
 * swiotlb_release_slots: give the slots back, merging them with the free slots around them in the
 * segment. Freed slots keep their bytes (swiotlb never clears them), which is why dma-iommu zeroes
 * the padding of the next bounce buffer there.
 */
function swiotlb_release_slots(dev: Device, pool: IoTlbPool, tlb_addr: number): void {
  const index = Math.floor((tlb_addr - pool.start) / IO_TLB_SIZE);
  const slot = pool.slots.get(index);
  const nslots = nr_slots(slot?.alloc_size ?? 0);
  let count =
    index + nslots < Math.ceil((index + 1) / IO_TLB_SEGSIZE) * IO_TLB_SEGSIZE ? pool.list[index + nslots] : 0;
  for (let i = index + nslots - 1; i >= index; i--) {
    pool.list[i] = ++count;
    pool.slots.delete(i);
  }
  for (let i = index - 1; io_tlb_offset(i) !== IO_TLB_SEGSIZE - 1 && pool.list[i]; i--)
    pool.list[i] = ++count;
  pool.used -= nslots;
  const t = dev.machine.trace;
  t.emit(ev.swiotlb_release_slots, t.str(dev.name), tlb_addr, nslots * IO_TLB_SIZE, pool.used);
}

/**
 * swiotlb_tbl_unmap_single: copy what the device wrote back to the original buffer (DMA_FROM_DEVICE,
 * DMA_BIDIRECTIONAL), then release the slots. `skip_cpu_sync` is DMA_ATTR_SKIP_CPU_SYNC (no copy).
 */
export function swiotlb_tbl_unmap_single(
  dev: Device,
  tlb_addr: number,
  mapping_size: number,
  dir: number,
  skip_cpu_sync = false,
): void {
  const pool = swiotlb_pool(dev.machine);
  if (!pool) return;
  if (!skip_cpu_sync && dir !== DMA_TO_DEVICE)
    swiotlb_bounce(dev, pool, tlb_addr, mapping_size, DMA_FROM_DEVICE);
  swiotlb_release_slots(dev, pool, tlb_addr);
}
