/**
 * The one code editor instance, for actions that move its cursor or its view (console links, the
 * line of the step shown). Set by Editor.svelte.
 */
import type { monaco } from './monaco.ts';

let current: monaco.editor.IStandaloneCodeEditor | null = null;
let pending: { line: number; column: number } | null = null;

export function setEditor(editor: monaco.editor.IStandaloneCodeEditor | null): void {
  current = editor;
}

/** Put the cursor on a line and focus the editor. Runs after the tab switch has shown its model. */
export function revealInEditor(line: number, column: number): void {
  pending = { line, column };
  queueMicrotask(() => {
    const ed = current;
    const at = pending;
    pending = null;
    if (!ed || !at) return;
    ed.setPosition({ lineNumber: at.line, column: at.column });
    ed.revealLineInCenterIfOutsideViewport(at.line);
    ed.focus();
  });
}

/**
 * Scroll `line` of `model` into view if the editor shows that model (checked after a tab switch has
 * shown its model); the cursor and the focus stay where they are. Resolves true when it did.
 */
export function revealLineIfShown(model: monaco.editor.ITextModel, line: number): Promise<boolean> {
  return new Promise((resolve) =>
    queueMicrotask(() => {
      const ed = current;
      if (!ed || ed.getModel() !== model) return resolve(false);
      ed.revealLineInCenterIfOutsideViewport(line);
      resolve(true);
    }),
  );
}
