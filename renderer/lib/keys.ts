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
  /** Home / End: the first and the last step of the run (time travel). */
  toStart?(): void;
  toEnd?(): void;
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

export function installKeys(actions: KeyActions): Disposer {
  const onKey = (e: KeyboardEvent): void => {
    const mod = e.ctrlKey || e.metaKey;
    let action: (() => void) | null = null;
    if (mod && !e.shiftKey && !e.altKey && e.key === 'Enter') action = actions.run;
    else if (e.key === 'F5' && !mod) action = e.shiftKey ? actions.stop : actions.run;
    else if (e.key === 'F10' && !mod) action = e.shiftKey ? actions.stepBack : actions.step;
    else if (mod && e.altKey && (e.key === 'n' || e.key === 'N')) action = actions.newTab;
    else if (
      (e.key === 'Home' || e.key === 'End') &&
      !mod &&
      !e.shiftKey &&
      !e.altKey &&
      !typingInto(e.target)
    )
      action = (e.key === 'Home' ? actions.toStart : actions.toEnd) ?? null;
    if (!action) return;
    e.preventDefault();
    e.stopPropagation();
    action();
  };
  window.addEventListener('keydown', onKey, true);
  return () => window.removeEventListener('keydown', onKey, true);
}
