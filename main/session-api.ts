/**
 * The session part of the contract between main, the preload and the page: channel names and message
 * shapes, no imports (the renderer includes it too). Main owns the files: the page never names a path
 * to write to — it saves to the file main opened or asks main to ask the user — and only paths main
 * itself offered (recent files, a dropped file, the command line) can be opened without a dialog.
 * Every message is checked in main (session-ipc.ts); anything else is logged and refused.
 */

export const SESSION_IPC = {
  /** page → main (invoke): open a session file → `OpenReply`. */
  open: 'session:open',
  /** page → main (invoke): write the session's text → `SaveReply`. */
  save: 'session:save',
  /** page → main (invoke): at page start — what to open, and autosaved work to offer → `StartupInfo`. */
  startup: 'session:startup',
  /** page → main (invoke): restore or discard autosaved work → `RecoveryReply`. */
  recovery: 'session:recovery',
  /** page → main (send): a new, untitled session replaced the current one. */
  new: 'session:new',
  /** page → main (send): unsaved or not, and the name (for the close guard and the title). */
  state: 'session:state',
  /** page → main (send): the unsaved session's text for the side file, or null to remove it. */
  autosave: 'session:autosave',
  /** page → main (send): the save main asked for before closing is done; close now. */
  closeReady: 'session:close-ready',
  /** main → page: `SessionEvent`. */
  event: 'session:event',
} as const;

export type OpenRequest =
  /** Ask the user with the system's open dialog. */
  | { kind: 'dialog' }
  /** One of the recent files (from the File menu). */
  | { kind: 'recent'; path: string }
  /** A file dropped on the window (its path, from the preload's webUtils). */
  | { kind: 'dropped'; path: string }
  /** The file main announced with an `open-request` event (command line, OS file association). */
  | { kind: 'pending' };

export type OpenReply =
  | { status: 'opened'; path: string; name: string; text: string }
  | { status: 'canceled' }
  | { status: 'error'; message: string };

export interface SaveRequest {
  /** The session file's text (engine/session serializeSession). */
  content: string;
  /** Ask where, even when the session already has a file. */
  saveAs: boolean;
  /** The file name to offer in the dialog (untitled sessions). */
  suggestedName?: string;
}

export type SaveReply =
  | { status: 'saved'; path: string; name: string }
  | { status: 'canceled' }
  /** `name`: the file that could not be written, when there was one. */
  | { status: 'error'; message: string; name?: string };

export interface SessionStateMessage {
  dirty: boolean;
  /** The file name shown (untitled.iommulab for a new session). */
  name: string;
}

export interface AutosaveMessage {
  /** The unsaved session's text, or null: nothing to keep (saved, or discarded). */
  content: string | null;
}

/** Autosaved work left by a run that did not close cleanly. */
export interface Recovery {
  id: string;
  text: string;
  /** The file it was an unsaved version of, if it had one. */
  path: string | null;
  name: string;
  /** ms since the epoch. */
  savedAt: number;
}

export interface StartupInfo {
  /** A file to open now: from the command line / OS, else the last session. */
  open?: OpenReply;
  /** Why the session would be this one, for the status line. */
  openReason?: 'command-line' | 'last-session';
  recovery?: Recovery;
}

export interface RecoveryRequest {
  id: string;
  action: 'restore' | 'discard';
}

export type RecoveryReply =
  { status: 'ok'; path: string | null; name: string } | { status: 'error'; message: string };

export type SessionEvent =
  /** A file arrived from the OS or a second launch: ask about unsaved work, then open `pending`. */
  | { type: 'open-request'; name: string }
  /** The window is closing and the user chose Save: save, then send closeReady. */
  | { type: 'save-before-close' };

/** What the preload exposes as `window.iommuLab.session`. */
export interface SessionBridge {
  startup(): Promise<StartupInfo>;
  open(req: OpenRequest): Promise<OpenReply>;
  save(req: SaveRequest): Promise<SaveReply>;
  recovery(req: RecoveryRequest): Promise<RecoveryReply>;
  newSession(): void;
  setState(state: SessionStateMessage): void;
  autosave(msg: AutosaveMessage): void;
  closeReady(): void;
  /** The path of a dropped file (Electron's webUtils), or '' when it has none. */
  pathForFile(file: unknown): string;
  onEvent(listener: (ev: SessionEvent) => void): () => void;
}
