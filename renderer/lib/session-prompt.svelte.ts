/**
 * Questions the session code asks (unsaved changes, restore autosaved work) and messages it must
 * show (a file that cannot be opened or saved), one at a time, answered in SessionDialog.svelte.
 * Texts are plain strings and are rendered as text, never as HTML: a file name or a load error can
 * quote anything a session file holds.
 */
import type { RecoveryOffer } from './session-backend.ts';

export interface PromptButton {
  id: string;
  label: string;
  primary?: boolean;
}

export interface Prompt {
  title: string;
  message: string;
  detail?: string;
  tone: 'info' | 'warn' | 'error';
  buttons: PromptButton[];
  /** The answer when the dialog is dismissed (Escape). */
  cancelId: string;
  /** A stable name for tests and styling: 'unsaved', 'restore', 'load-error', 'save-error'. */
  kind: string;
}

class PromptStore {
  current = $state.raw<Prompt | null>(null);
  private queue: { prompt: Prompt; resolve: (id: string) => void }[] = [];
  private resolve: ((id: string) => void) | null = null;

  ask(prompt: Prompt): Promise<string> {
    return new Promise((resolve) => {
      this.queue.push({ prompt, resolve });
      if (!this.current) this.next();
    });
  }

  /** Show a message with one OK button. */
  tell(
    kind: string,
    title: string,
    message: string,
    tone: Prompt['tone'] = 'error',
    detail?: string,
  ): Promise<void> {
    return this.ask({
      kind,
      title,
      message,
      ...(detail ? { detail } : {}),
      tone,
      buttons: [{ id: 'ok', label: 'OK', primary: true }],
      cancelId: 'ok',
    }).then(() => undefined);
  }

  answer(id: string): void {
    const r = this.resolve;
    this.resolve = null;
    this.current = null;
    r?.(id);
    this.next();
  }

  private next(): void {
    const n = this.queue.shift();
    if (!n) return;
    this.current = n.prompt;
    this.resolve = n.resolve;
  }
}

export const prompts = new PromptStore();

class RecoveryBanner {
  offer = $state.raw<RecoveryOffer | null>(null);
}
/** Autosaved work put back at start, waiting for Keep or Discard (SessionBanner.svelte shows it). */
export const recoveryBanner = new RecoveryBanner();
