/**
 * Read-only views of a page table for panels: leaves in IOVA order, merged mapping ranges (paged
 * by a cursor so a million-mapping list is read a window at a time) and the decoded table tree.
 */
import { KIND_LEAF, KIND_TABLE, POW2 } from './format.ts';
import type { IoPgtable } from './io-pgtable.ts';
import type { MappingRange, TableEntryView, TableView } from './types.ts';

/** One leaf: replicated entries (amd-v1, omap) are reported once, at the leaf's first IOVA. */
export interface Leaf {
  iova: number;
  pa: number;
  size: number;
  prot: number;
  /** The format's level number. */
  level: number;
}

export function* iter_leaves(pt: IoPgtable, from_iova: number): Generator<Leaf> {
  if (pt.root === 0) return;
  yield* leaves_of(pt, pt.root, pt.levels - 1, pt.iova_bias, from_iova);
}

function* leaves_of(pt: IoPgtable, table: number, lvl: number, tbase: number, from: number): Generator<Leaf> {
  const fmt = pt.fmt;
  const shift = pt.shift[lvl];
  const esz = POW2[shift];
  const n = Math.min(pt.entries(lvl), Math.ceil((pt.limit - tbase) / esz));
  let i = from > tbase ? Math.floor((from - tbase) / esz) : 0;
  for (; i < n; i++) {
    const lo = pt.read_lo(table, i);
    const hi = pt.read_hi(table, i);
    const k = fmt.kind(lo, hi, lvl);
    if (k === KIND_TABLE && lvl > 0) {
      yield* leaves_of(pt, fmt.table_pa(lo, hi, lvl), lvl - 1, tbase + i * esz, from);
    } else if (k === KIND_LEAF) {
      const lg2 = fmt.leaf_lg2(lo, hi, lvl, shift);
      const cnt = POW2[lg2 - shift];
      const first = i - (i % cnt);
      const iova = tbase + first * esz;
      const size = POW2[lg2];
      i = first + cnt - 1;
      if (iova + size <= from) continue;
      yield {
        iova,
        pa: fmt.leaf_pa(lo, hi, lvl, lg2),
        size,
        prot: fmt.leaf_prot(lo, hi, lvl),
        level: pt.native_level(lvl),
      };
    }
  }
}

/**
 * Up to `limit` merged ranges from the first leaf at or after `from`; next_iova is where the next
 * window starts (-1 at the end).
 */
export function collect_mappings(
  pt: IoPgtable,
  from: number,
  limit: number,
): { items: MappingRange[]; next_iova: number } {
  const items: MappingRange[] = [];
  let cur: MappingRange | null = null;
  for (const l of iter_leaves(pt, from)) {
    if (
      cur &&
      cur.iova + cur.size === l.iova &&
      cur.pa + cur.size === l.pa &&
      cur.prot === l.prot &&
      cur.pgsize === l.size
    ) {
      cur.size += l.size;
      continue;
    }
    if (items.length === limit) return { items, next_iova: l.iova };
    cur = { iova: l.iova, pa: l.pa, size: l.size, prot: l.prot, pgsize: l.size };
    items.push(cur);
  }
  return { items, next_iova: -1 };
}

/** Every table, depth first in IOVA order, with its non-empty entries decoded. */
export function collect_tables(pt: IoPgtable): TableView[] {
  const out: TableView[] = [];
  if (pt.root !== 0) tables_of(pt, pt.root, pt.levels - 1, pt.iova_bias, out);
  return out;
}

function tables_of(pt: IoPgtable, table: number, lvl: number, tbase: number, out: TableView[]): void {
  const fmt = pt.fmt;
  const shift = pt.shift[lvl];
  const esz = POW2[shift];
  const empty = fmt.empty_lo(lvl);
  const entries: TableEntryView[] = [];
  const view: TableView = { pa: table, level: pt.native_level(lvl), iova: tbase, entries };
  out.push(view);
  const n = pt.entries(lvl);
  for (let i = 0; i < n; i++) {
    const lo = pt.read_lo(table, i);
    const hi = pt.read_hi(table, i);
    if (lo === empty && hi === 0) continue;
    entries.push({ index: i, raw_hi: hi, raw_lo: lo, decoded: fmt.describe(lo, hi, lvl, shift) });
    if (lvl > 0 && fmt.kind(lo, hi, lvl) === KIND_TABLE)
      tables_of(pt, fmt.table_pa(lo, hi, lvl), lvl - 1, tbase + i * esz, out);
  }
}
