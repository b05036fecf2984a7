/**
 * The panel layout as plain data, and the operations on it. No Svelte here: layout.svelte.ts wraps
 * this in a reactive store, and the session file stores what `serialize` gives.
 *
 * Two docks hold the panels: `right` (beside the editor, its groups stacked top to bottom) and
 * `bottom` (under the editor, its groups side by side). A group is a tab strip with one visible
 * panel. The editor is not a panel: it cannot be moved or closed.
 */

export type DockId = 'right' | 'bottom';
export const DOCKS: readonly DockId[] = ['right', 'bottom'];

export interface GroupLayout {
  panels: string[];
  active: string;
  /** Share of the dock's length (heights in `right`, widths in `bottom`); a dock's shares sum to 1. */
  size: number;
}

export interface LayoutModel {
  version: 2;
  /** Fraction of the window's width given to the right dock. */
  rightWidth: number;
  /** Fraction of the editor column's height given to the bottom dock. */
  bottomHeight: number;
  docks: Record<DockId, GroupLayout[]>;
  /** Docks hidden as a whole (View → Side Panels); their panels keep their places. */
  hidden: DockId[];
  /** Panels the user closed; they stay closed until reopened from the View menu. */
  closed: string[];
}

export const WIDTH_RANGE = [0.15, 0.85] as const;
export const HEIGHT_RANGE = [0.1, 0.8] as const;
/** No group shrinks below this share of its dock by dragging a splitter. */
export const MIN_GROUP = 0.08;

/**
 * Where each known panel starts: dock and group index. On a 1600×1000 window this shows Domains,
 * Reserved regions and IOTLB stacked on the right and the Console under the editor, all at once.
 * A panel not listed here starts in the bottom dock's first group.
 */
const PLACEMENT: Record<string, [DockId, number]> = {
  domains: ['right', 0],
  matrix: ['right', 0],
  help: ['right', 0],
  resv: ['right', 1],
  iotlb: ['right', 2],
  console: ['bottom', 0],
  trace: ['bottom', 0],
  checks: ['bottom', 0],
};
/** Which panel each default group shows first. */
const FIRST_ACTIVE = ['domains', 'resv', 'iotlb', 'console'];
const DEFAULT_SIZES: Record<DockId, number[]> = { right: [0.37, 0.35, 0.28], bottom: [1] };

export function placementOf(panel: string): [DockId, number] {
  return PLACEMENT[panel] ?? ['bottom', 0];
}

/** The default layout for the panels `ids` (in registry order). */
export function defaultLayout(ids: readonly string[]): LayoutModel {
  const model: LayoutModel = {
    version: 2,
    rightWidth: 0.5,
    bottomHeight: 0.34,
    docks: { right: [], bottom: [] },
    hidden: [],
    closed: [],
  };
  // Groups in placement order, so the registry's order only orders the tabs within a group.
  const byIndex = [...ids].sort((a, b) => placementOf(a)[1] - placementOf(b)[1]);
  for (const id of byIndex) place(model, id, placementOf(id));
  for (const dock of DOCKS) {
    const groups = model.docks[dock];
    groups.forEach((g, i) => {
      g.panels.sort((a, b) => ids.indexOf(a) - ids.indexOf(b));
      g.size = DEFAULT_SIZES[dock][i] ?? 1 / groups.length;
      g.active = g.panels.find((p) => FIRST_ACTIVE.includes(p)) ?? g.panels[0]!;
    });
    normalizeSizes(groups);
  }
  return model;
}

/** Put `id` into group `index` of `dock`: a new group when it is the next one, else the last group. */
function place(model: LayoutModel, id: string, [dock, index]: [DockId, number]): void {
  const groups = model.docks[dock];
  let g = groups[index];
  if (!g && (groups.length === index || groups.length === 0)) {
    g = { panels: [], active: id, size: 1 / (groups.length + 1) };
    groups.push(g);
  }
  g ??= groups[groups.length - 1]!;
  if (!g.panels.includes(id)) g.panels.push(id);
  if (!g.panels.includes(g.active)) g.active = id;
}

function normalizeSizes(groups: GroupLayout[]): void {
  const sum = groups.reduce((s, g) => s + g.size, 0);
  for (const g of groups) g.size = sum > 0 ? g.size / sum : 1 / groups.length;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const inRange = (v: unknown, [lo, hi]: readonly [number, number]): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

/**
 * Read a stored layout. Anything malformed gives null (the caller falls back to the default). A
 * well-formed layout is fitted to the panels that exist now: unknown panels are dropped, new ones
 * join their default place, empty groups go away.
 */
export function parseLayout(raw: unknown, ids: readonly string[]): LayoutModel | null {
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (!isObj(raw) || raw.version !== 2) return null;
  if (!inRange(raw.rightWidth, WIDTH_RANGE) || !inRange(raw.bottomHeight, HEIGHT_RANGE)) return null;
  if (!isObj(raw.docks) || !Array.isArray(raw.hidden) || !Array.isArray(raw.closed)) return null;
  if (!raw.hidden.every((d) => DOCKS.includes(d as DockId))) return null;
  if (!raw.closed.every((c) => typeof c === 'string')) return null;
  const model: LayoutModel = {
    version: 2,
    rightWidth: raw.rightWidth,
    bottomHeight: raw.bottomHeight,
    docks: { right: [], bottom: [] },
    hidden: [...new Set(raw.hidden as DockId[])],
    closed: (raw.closed as string[]).filter((c) => ids.includes(c)),
  };
  const seen = new Set<string>();
  for (const dock of DOCKS) {
    const groups = raw.docks[dock];
    if (!Array.isArray(groups)) return null;
    for (const g of groups) {
      if (!isObj(g) || !Array.isArray(g.panels) || typeof g.active !== 'string') return null;
      if (!inRange(g.size, [0, 1])) return null;
      if (!g.panels.every((p) => typeof p === 'string')) return null;
      const panels = (g.panels as string[]).filter(
        (p) => ids.includes(p) && !seen.has(p) && !model.closed.includes(p),
      );
      panels.forEach((p) => seen.add(p));
      if (panels.length === 0) continue;
      model.docks[dock].push({
        panels,
        active: panels.includes(g.active) ? g.active : panels[0]!,
        size: g.size,
      });
    }
    normalizeSizes(model.docks[dock]);
  }
  for (const id of ids) if (!seen.has(id) && !model.closed.includes(id)) place(model, id, placementOf(id));
  for (const dock of DOCKS) normalizeSizes(model.docks[dock]);
  return model;
}

/** Where a panel is now, or null when closed. */
export function locate(
  model: LayoutModel,
  panel: string,
): { dock: DockId; index: number; group: GroupLayout } | null {
  for (const dock of DOCKS) {
    const index = model.docks[dock].findIndex((g) => g.panels.includes(panel));
    if (index >= 0) return { dock, index, group: model.docks[dock][index]! };
  }
  return null;
}

/** Whether the panel is the one its group shows (and its dock is not hidden). */
export function isShown(model: LayoutModel, panel: string): boolean {
  const at = locate(model, panel);
  return !!at && at.group.active === panel && !model.hidden.includes(at.dock);
}

function detach(model: LayoutModel, panel: string): void {
  for (const dock of DOCKS) {
    const groups = model.docks[dock];
    for (const g of groups) {
      const i = g.panels.indexOf(panel);
      if (i < 0) continue;
      g.panels.splice(i, 1);
      if (g.active === panel) g.active = g.panels[Math.min(i, g.panels.length - 1)] ?? '';
    }
    const kept = groups.filter((g) => g.panels.length > 0);
    if (kept.length !== groups.length) {
      model.docks[dock] = kept;
      normalizeSizes(kept);
    }
  }
}

/**
 * Move `panel` into group `index` of `dock`, or into a new group at `index` when `asNewGroup`
 * (index = the dock's length appends). The moved panel becomes the one its group shows.
 */
export function movePanel(
  model: LayoutModel,
  panel: string,
  dock: DockId,
  index: number,
  asNewGroup = false,
): void {
  // The group to join, or the one the new group goes before.
  const target = model.docks[dock][index];
  const from = locate(model, panel);
  if (from && !asNewGroup && from.group === target) {
    target.active = panel;
    return;
  }
  // Splitting a group's only panel off beside itself changes nothing.
  const alone = from && from.dock === dock && from.group.panels.length === 1;
  if (asNewGroup && alone && (index === from.index || index === from.index + 1)) return;
  detach(model, panel);
  model.closed = model.closed.filter((c) => c !== panel);
  model.hidden = model.hidden.filter((d) => d !== dock);
  const groups = model.docks[dock];
  const stillThere = target !== undefined && groups.includes(target);
  if (!asNewGroup && stillThere) {
    target.panels.push(panel);
    target.active = panel;
    return;
  }
  const at = stillThere ? groups.indexOf(target) : groups.length;
  const share = groups.length ? 1 / (groups.length + 1) : 1;
  for (const g of groups) g.size *= 1 - share;
  groups.splice(at, 0, { panels: [panel], active: panel, size: share });
  normalizeSizes(groups);
}

/** Move to the other dock's first group (the "move to right / to bottom" command). */
export function movePanelToDock(model: LayoutModel, panel: string, dock: DockId): void {
  const groups = model.docks[dock];
  if (groups.length === 0) movePanel(model, panel, dock, 0, true);
  else if (locate(model, panel)?.dock !== dock) movePanel(model, panel, dock, 0);
}

export function closePanel(model: LayoutModel, panel: string): void {
  if (!locate(model, panel)) return;
  detach(model, panel);
  if (!model.closed.includes(panel)) model.closed.push(panel);
}

/** Reopen (in its default place) or just bring to the front, and unhide its dock. */
export function showPanel(model: LayoutModel, panel: string): void {
  let at = locate(model, panel);
  if (!at) {
    model.closed = model.closed.filter((c) => c !== panel);
    const [dock, index] = placementOf(panel);
    if (model.docks[dock].length === 0) movePanel(model, panel, dock, 0, true);
    else movePanel(model, panel, dock, Math.min(index, model.docks[dock].length - 1));
    at = locate(model, panel)!;
  }
  at.group.active = panel;
  model.hidden = model.hidden.filter((d) => d !== at.dock);
}

/** Set the boundary after group `i` of a dock to `fraction` of the dock's length. */
export function resizeGroups(model: LayoutModel, dock: DockId, i: number, fraction: number): void {
  const groups = model.docks[dock];
  const a = groups[i];
  const b = groups[i + 1];
  if (!a || !b) return;
  const start = groups.slice(0, i).reduce((s, g) => s + g.size, 0);
  const end = start + a.size + b.size;
  const f = Math.min(end - MIN_GROUP, Math.max(start + MIN_GROUP, fraction));
  a.size = f - start;
  b.size = end - f;
}

export function clamp(v: number, [lo, hi]: readonly [number, number]): number {
  return Math.min(hi, Math.max(lo, v));
}
