/**
 * Window-wide keys, caught in the capture phase so Monaco does not also act on them (Ctrl+Enter would
 * insert a line). In Electron the menu shows the same accelerators; a key the page handles here does
 * not reach the menu, so an action never fires twice.
 */
import type { Disposer } from './emitter.ts';

export interface KeyActions {
  run(): void;
  stop(): void;
  step(): void;
  stepBack(): void;
  newTab(): void;
  /** Home / End: the first and the last step of the run (time travel); false when there is none to go to. */
  toStart?(): boolean;
  toEnd?(): boolean;
}

/** One row of Help → Keys. `Mod` is shown as Ctrl, or ⌘ on a Mac. */
export interface KeyHelp {
  keys: string;
  does: string;
  /** Where it works when not everywhere. */
  where?: string;
  /** Said instead of `where` in the browser mode, where the browser keeps some keys for itself. */
  inBrowser?: string;
}

/**
 * Every key the lab answers, for Help → Keys: the window-wide ones handled below, the session keys
 * (session-actions.ts, in both modes; the desktop menu shows them as accelerators, main/menu.ts),
 * and the editor keys people look for first.
 */
export const KEY_HELP: readonly KeyHelp[] = [
  { keys: 'Mod+Enter, F5', does: 'Run the active tab' },
  { keys: 'Shift+F5', does: 'Stop the run (the state up to the last step stays)' },
  { keys: 'F10', does: 'Step forward through the run (time travel)' },
  { keys: 'Shift+F10', does: 'Step back' },
  {
    keys: 'Home, End',
    does: 'First and last step of the run',
    where:
      'outside the editor, text fields, menus, tab strips and lists (there they go to the first and last item)',
  },
  { keys: 'Mod+Alt+N', does: 'New tab' },
  { keys: 'Mod+Space', does: 'Completions for the iommu-lab API', where: 'editor' },
  { keys: 'F1', does: "The editor's command palette", where: 'editor' },
  {
    keys: 'Mod+M',
    does: 'Switch what Tab does: move focus out of the editor to the panels, or indent (press again to go back)',
    where: 'editor',
  },
  { keys: 'Mod+S, Mod+Shift+S', does: 'Save the session, save it as' },
  { keys: 'Mod+O', does: 'Open a session' },
  {
    keys: 'Mod+N',
    does: 'New session',
    // Chromium and Firefox open a new window on it and never pass it to the page.
    inBrowser: 'not in a browser, which keeps this key for a new window: use New on the toolbar',
  },
  {
    keys: 'Mod+B, Mod+J',
    does: 'Show or hide the side and the bottom panels',
    where: 'desktop app',
    inBrowser: 'desktop app; in a browser, the View menu on the toolbar',
  },
];

/** The rows of Help → Keys as they hold where the lab runs: the desktop app or a browser. */
export function keyHelp(host: 'desktop' | 'browser'): { keys: string; does: string; where?: string }[] {
  return KEY_HELP.map(({ keys, does, where, inBrowser }) => {
    const note = host === 'browser' ? (inBrowser ?? where) : where;
    return note === undefined ? { keys, does } : { keys, does, where: note };
  });
}

/** Home and End move the caret in the editor and in text fields; elsewhere they travel in time. */
function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (
    target.closest('.monaco-editor, input, textarea, select, [contenteditable=""], [contenteditable="true"]')
  )
    return true;
  return false;
}

/**
 * Composite widgets whose own keys Home and End are (WAI-ARIA: first and last item): the View and
 * ⋯ menus, the panel and editor tab strips, the mappings and trace lists. In them the keys are the
 * widget's, whatever it does with them; time travel is a key press away outside.
 */
const OWN_HOME_END =
  '[role=menu], [role=menubar], [role=tablist], [role=listbox], [role=grid], [role=treegrid]';

function widgetOwns(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest(OWN_HOME_END) !== null;
}

export function installKeys(actions: KeyActions): Disposer {
  // Run, stop, step and new tab in the capture phase: no widget has them, and Monaco must not see
  // Ctrl+Enter. F10/Shift+F10 are no widget's key either (no panel has a context menu).
  const onKey = (e: KeyboardEvent): void => {
    const mod = e.ctrlKey || e.metaKey;
    let action: (() => void) | null = null;
    if (mod && !e.shiftKey && !e.altKey && e.key === 'Enter') action = actions.run;
    else if (e.key === 'F5' && !mod) action = e.shiftKey ? actions.stop : actions.run;
    else if (e.key === 'F10' && !mod) action = e.shiftKey ? actions.stepBack : actions.step;
    else if (mod && e.altKey && (e.key === 'n' || e.key === 'N')) action = actions.newTab;
    if (!action) return;
    e.preventDefault();
    e.stopPropagation();
    action();
  };
  // Home/End after the page's own handlers (the bubble phase): a widget that took the key (it called
  // preventDefault), the editor, a text field or a widget whose key it is keeps it. Taken only when
  // there is a run to move through; else the key does what it would have done (scroll, nothing).
  const onHomeEnd = (e: KeyboardEvent): void => {
    if (e.key !== 'Home' && e.key !== 'End') return;
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || e.defaultPrevented) return;
    if (typingInto(e.target) || widgetOwns(e.target)) return;
    const seek = e.key === 'Home' ? actions.toStart : actions.toEnd;
    if (!seek?.()) return;
    e.preventDefault();
  };
  window.addEventListener('keydown', onKey, true);
  window.addEventListener('keydown', onHomeEnd);
  return () => {
    window.removeEventListener('keydown', onKey, true);
    window.removeEventListener('keydown', onHomeEnd);
  };
}
