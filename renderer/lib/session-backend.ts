/**
 * Where session files come from and go to: the desktop app's main process (files on disk, native
 * dialogs, a side file for autosave) or the browser (file pickers or downloads, browser storage).
 * session-actions.ts talks only to this interface.
 */
export interface OpenedFile {
  status: 'opened';
  name: string;
  /** Desktop: the file's path (shown as a tooltip). */
  path?: string;
  text: string;
  /** Browser: a File System Access handle, so Save writes back to the same file. */
  handle?: unknown;
}

export type OpenResult =
  OpenedFile | { status: 'canceled' } | { status: 'error'; message: string; name?: string };
export type SaveResult =
  | { status: 'saved'; name: string; path?: string; handle?: unknown }
  | { status: 'canceled' }
  /** `name`: the file that could not be written, where known (Save As picks another than the session's). */
  | { status: 'error'; message: string; name?: string };

export type OpenSource =
  | { kind: 'dialog' }
  | { kind: 'recent'; path: string }
  /** Browser: a remembered File System Access handle (the recent sessions menu). */
  | { kind: 'handle'; handle: unknown }
  | { kind: 'file'; file: File }
  | { kind: 'pending' };

export interface RecoveryOffer {
  id: string;
  text: string;
  name: string;
  path: string | null;
  savedAt: number;
  /** Browser: the work of another tab of the lab, closed since without saving it. */
  fromClosedTab?: boolean;
  /** Browser: how many more closed tabs left unsaved work (a new tab offers the next). */
  moreLeft?: number;
}

export interface StartupResult {
  open?: OpenResult;
  openReason?: 'command-line' | 'last-session';
  recovery?: RecoveryOffer;
}

export interface SessionBackend {
  readonly kind: 'desktop' | 'browser';
  startup(): Promise<StartupResult>;
  open(source: OpenSource): Promise<OpenResult>;
  /** `handle`: the browser's current file handle (from an open or a save), if any. */
  save(content: string, opts: { saveAs: boolean; name: string; handle?: unknown }): Promise<SaveResult>;
  recovery(
    id: string,
    action: 'restore' | 'discard',
  ): Promise<{ ok: true; path: string | null } | { ok: false; message: string }>;
  /** The page now holds an untitled session with no file. */
  newSession(): void;
  /** The current state, for the close guard and the window title. */
  setState(dirty: boolean, name: string): void;
  /** Unsaved work to keep apart from the user's file, or null when there is none. Synchronous where it can be. */
  autosave(content: string | null, name: string): void;
  /** The session as last opened or saved (clean), for the next start; `handle`: its file (browser). */
  remember(content: string, name: string, handle?: unknown): void;
  /** Main (desktop) announcing a file to open, or asking to save before closing. */
  onEvent(
    listener: (ev: { type: 'open-request'; name: string } | { type: 'save-before-close' }) => void,
  ): () => void;
  closeReady(): void;
}
