/**
 * An IommuFlushOps that records every callback, for tests and for scenarios that want to show
 * what a page-table change asks of the TLB.
 */
import type { IommuFlushOps } from './types.ts';

export class FlushLog implements IommuFlushOps {
  readonly pages: [number, number][] = [];
  readonly walks: [number, number][] = [];
  readonly changed: [number, number][] = [];
  readonly roots: [number, number][] = [];

  tlb_add_page(_gather: unknown, iova: number, granule: number): void {
    this.pages.push([iova, granule]);
  }
  tlb_flush_walk(iova: number, size: number, _granule: number): void {
    this.walks.push([iova, size]);
  }
  pte_changed(iova: number, size: number): void {
    this.changed.push([iova, size]);
  }
  root_changed(root: number, levels: number): void {
    this.roots.push([root, levels]);
  }
}
