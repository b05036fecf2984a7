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
}

export function installKeys(actions: KeyActions): Disposer {
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
  window.addEventListener('keydown', onKey, true);
  return () => window.removeEventListener('keydown', onKey, true);
}
