/**
 * Panel layout: the side column's width and which panel areas show. Saved apart from the scripts; a
 * stored layout that does not parse falls back to the default.
 */
const STORAGE_KEY = 'iommu-lab.layout.v1';

interface SavedLayout {
  sideWidth: number;
  sideVisible: boolean;
  sidePanel: string;
}

const DEFAULT: SavedLayout = { sideWidth: 0.42, sideVisible: true, sidePanel: 'console' };

function load(): SavedLayout {
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (typeof raw !== 'object' || raw === null) return { ...DEFAULT };
    const r = raw as Partial<SavedLayout>;
    const ok =
      typeof r.sideWidth === 'number' &&
      r.sideWidth >= 0.15 &&
      r.sideWidth <= 0.85 &&
      typeof r.sideVisible === 'boolean' &&
      typeof r.sidePanel === 'string';
    return ok ? (r as SavedLayout) : { ...DEFAULT };
  } catch {
    return { ...DEFAULT };
  }
}

class LayoutStore {
  /** Fraction of the window's width given to the side panels. */
  sideWidth = $state(DEFAULT.sideWidth);
  sideVisible = $state(DEFAULT.sideVisible);
  sidePanel = $state(DEFAULT.sidePanel);

  init(): void {
    const l = load();
    this.sideWidth = l.sideWidth;
    this.sideVisible = l.sideVisible;
    this.sidePanel = l.sidePanel;
  }

  setSideWidth(fraction: number): void {
    this.sideWidth = Math.min(0.85, Math.max(0.15, fraction));
    this.save();
  }

  /** 'side' toggles the whole column; a panel id shows that panel (and the column). */
  toggle(what: string): void {
    if (what === 'side') this.sideVisible = !this.sideVisible;
    else {
      this.sideVisible = true;
      this.sidePanel = what;
    }
    this.save();
  }

  show(panel: string): void {
    this.sidePanel = panel;
    this.save();
  }

  private save(): void {
    try {
      const l: SavedLayout = {
        sideWidth: this.sideWidth,
        sideVisible: this.sideVisible,
        sidePanel: this.sidePanel,
      };
      localStorage.setItem(STORAGE_KEY, JSON.stringify(l));
    } catch {
      // Layout is a convenience; losing it is harmless.
    }
  }
}

export const layout = new LayoutStore();
