/**
 * The panel layout store: which panel sits where, the docks' sizes, what is closed. Saved apart from
 * the scripts (localStorage here; the session file keeps `serialize()` too). A stored layout that
 * does not parse falls back to the default one. The rules live in layout-model.ts.
 */
import {
  clamp,
  closePanel,
  defaultLayout,
  HEIGHT_RANGE,
  isShown,
  locate,
  movePanel,
  movePanelToDock,
  parseLayout,
  resizeGroups,
  showPanel,
  WIDTH_RANGE,
  type DockId,
  type LayoutModel,
} from './layout-model.ts';

export type { DockId, GroupLayout, LayoutModel } from './layout-model.ts';

export const STORAGE_KEY = 'iommu-lab.layout.v2';

class LayoutStore {
  /** The registered panels (App passes the registry's ids; the layout itself imports no panels). */
  private ids: string[] = [];
  model = $state<LayoutModel>(defaultLayout([]));
  /** Set when the stored layout was refused at start (the status bar may say so). */
  fellBack = $state(false);

  /** Load the stored layout, or the default when there is none or it is unusable. */
  init(panelIds: string[]): void {
    this.ids = panelIds;
    let stored: string | null;
    try {
      stored = localStorage.getItem(STORAGE_KEY);
    } catch {
      stored = null;
    }
    const parsed = stored === null ? null : parseLayout(stored, this.ids);
    this.fellBack = stored !== null && parsed === null;
    this.model = parsed ?? defaultLayout(this.ids);
    if (this.fellBack) this.save();
  }

  /** The layout as plain JSON-able data, for the session file. */
  serialize(): LayoutModel {
    return $state.snapshot(this.model) as LayoutModel;
  }

  /** Take a layout from a session file (an object or its JSON text). False, and nothing changes, when it is unusable. */
  restore(json: unknown): boolean {
    const parsed = parseLayout(json, this.ids);
    if (!parsed) return false;
    this.model = parsed;
    this.save();
    return true;
  }

  reset(): void {
    this.model = defaultLayout(this.ids);
    this.save();
  }

  get rightWidth(): number {
    return this.model.rightWidth;
  }

  get bottomHeight(): number {
    return this.model.bottomHeight;
  }

  /** Whether a dock shows (it has groups and is not hidden). */
  dockVisible(dock: DockId): boolean {
    return this.model.docks[dock].length > 0 && !this.model.hidden.includes(dock);
  }

  isOpen(panel: string): boolean {
    return locate(this.model, panel) !== null;
  }

  isShown(panel: string): boolean {
    return isShown(this.model, panel);
  }

  dockOf(panel: string): DockId | null {
    return locate(this.model, panel)?.dock ?? null;
  }

  setRightWidth(fraction: number): void {
    this.model.rightWidth = clamp(fraction, WIDTH_RANGE);
    this.save();
  }

  setBottomHeight(fraction: number): void {
    this.model.bottomHeight = clamp(fraction, HEIGHT_RANGE);
    this.save();
  }

  resizeGroups(dock: DockId, index: number, fraction: number): void {
    resizeGroups(this.model, dock, index, fraction);
    this.save();
  }

  /** Bring a panel to the front of its group, reopening it if it was closed. */
  show(panel: string): void {
    showPanel(this.model, panel);
    this.save();
  }

  close(panel: string): void {
    closePanel(this.model, panel);
    this.save();
  }

  move(panel: string, dock: DockId, index: number, asNewGroup = false): void {
    movePanel(this.model, panel, dock, index, asNewGroup);
    this.save();
  }

  moveToDock(panel: string, dock: DockId): void {
    movePanelToDock(this.model, panel, dock);
    this.save();
  }

  /**
   * The View menu: a panel id opens a closed panel (or closes an open one); 'side' hides or shows
   * the right dock; 'bottom' the bottom dock; 'reset' goes back to the default layout.
   */
  toggle(what: string): void {
    if (what === 'reset') this.reset();
    else if (what === 'side' || what === 'right' || what === 'bottom') {
      const dock: DockId = what === 'bottom' ? 'bottom' : 'right';
      const h = this.model.hidden;
      this.model.hidden = h.includes(dock) ? h.filter((d) => d !== dock) : [...h, dock];
      this.save();
    } else if (this.isOpen(what)) this.close(what);
    else this.show(what);
  }

  private save(): void {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(this.serialize()));
    } catch {
      // Layout is a convenience; losing it is harmless.
    }
  }
}

export const layout = new LayoutStore();
