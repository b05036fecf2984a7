/**
 * Session files in the desktop app: Open, Save, Save As, the recent files, the last session reopened
 * at start, files from the command line, the OS (macOS `open-file`) or a second launch, the autosave
 * side file and its recovery after a crash, and the question before a window with unsaved changes
 * closes. The page owns the session's content; main owns the disk and the dialogs.
 *
 * The logic that can run without Electron lives in atomic-write.ts, autosave.ts, recent-files.ts,
 * session-files.ts, session-ipc.ts and argv.ts (tested under Node); this file only joins them to
 * Electron's dialogs, windows and IPC.
 */
import {
  app,
  dialog,
  ipcMain,
  type BrowserWindow,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
} from 'electron';
import path from 'node:path';
import { describeWriteError, writeFileAtomic } from './atomic-write.ts';
import { AutosaveFile, findRecoveries, removeRecovery } from './autosave.ts';
import { RecentFiles } from './recent-files.ts';
import {
  SESSION_IPC,
  type OpenReply,
  type OpenRequest,
  type RecoveryReply,
  type SaveReply,
  type SaveRequest,
  type SessionEvent,
  type StartupInfo,
} from './session-api.ts';
import { checkSessionText, readSessionFile, withSessionExt } from './session-files.ts';
import {
  dispatch,
  isTrustedSenderUrl,
  parseAutosaveMessage,
  parseEmpty,
  parseOpenRequest,
  parseRecoveryRequest,
  parseSaveRequest,
  parseStateMessage,
  type Parsed,
} from './session-ipc.ts';

const FILTERS = [{ name: 'IOMMU Lab session', extensions: ['iommulab'] }];
const UNTITLED = 'untitled.iommulab';

export class SessionController {
  private win: BrowserWindow | null = null;
  private recent: RecentFiles | null = null;
  private autosave: AutosaveFile | null = null;
  private currentPath: string | null = null;
  private dirty = false;
  private name = UNTITLED;
  /** A file from the command line or the OS, waiting for the page to open it. */
  private pendingPath: string | null = null;
  /** The page asked for its startup info: later files are announced with an event. */
  private pageStarted = false;
  private allowClose = false;

  constructor(private readonly onRecentChanged: () => void) {}

  private get autosaveDir(): string {
    return path.join(app.getPath('userData'), 'autosave');
  }

  /** After app 'ready': read the recent files, start this run's autosave file, answer the page. */
  async start(): Promise<void> {
    this.recent = new RecentFiles(path.join(app.getPath('userData'), 'sessions.json'));
    await this.recent.load();
    this.autosave = new AutosaveFile(this.autosaveDir);
    this.registerIpc();
    this.onRecentChanged();
  }

  recentFiles(): string[] {
    return this.recent?.list() ?? [];
  }

  clearRecent(): void {
    void this.recent?.clear().then(() => this.onRecentChanged());
  }

  /** A file to open from outside (command line, OS, second launch). */
  requestOpen(file: string): void {
    this.pendingPath = file;
    if (this.pageStarted && this.win && !this.win.isDestroyed())
      this.send({ type: 'open-request', name: path.basename(file) });
  }

  attachWindow(win: BrowserWindow): void {
    this.win = win;
    this.pageStarted = false;
    this.allowClose = false;
    win.on('close', (e) => this.onClose(e, win));
    win.on('closed', () => {
      // Closed on purpose (saved, nothing to save, or the user chose not to): no side file to offer.
      if (this.allowClose || !this.dirty) this.autosave?.clearSync();
      this.win = null;
    });
    win.webContents.on('render-process-gone', () => {
      // The page died with unsaved work: keep its side file for the next page to offer, and
      // autosave under a new id from now on.
      this.autosave = new AutosaveFile(this.autosaveDir);
      this.pageStarted = false;
    });
    win.webContents.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) this.pageStarted = false;
    });
  }

  private send(ev: SessionEvent): void {
    this.win?.webContents.send(SESSION_IPC.event, ev);
  }

  private onClose(e: Electron.Event, win: BrowserWindow): void {
    if (this.allowClose || !this.dirty) return;
    e.preventDefault();
    const choice = dialog.showMessageBoxSync(win, {
      type: 'warning',
      buttons: ['Save', "Don't Save", 'Cancel'],
      defaultId: 0,
      cancelId: 2,
      noLink: true,
      message: `Save the changes to ${this.name} before closing?`,
      detail: "Your changes are lost if you don't save them.",
    });
    if (choice === 0) this.send({ type: 'save-before-close' });
    else if (choice === 1) {
      this.allowClose = true;
      win.close();
    }
  }

  // ───────────────────────────── IPC ─────────────────────────────

  private trusted(event: IpcMainEvent | IpcMainInvokeEvent): boolean {
    return (
      this.win !== null &&
      !this.win.isDestroyed() &&
      event.sender === this.win.webContents &&
      isTrustedSenderUrl(event.senderFrame?.url)
    );
  }

  /** A request/response channel: checked sender and payload, errors answered, never thrown at main. */
  private handle<T, R>(
    channel: string,
    parse: (x: unknown) => Parsed<T>,
    fn: (v: T) => Promise<R>,
    refused: (why: string) => R,
  ): void {
    ipcMain.handle(channel, (event, ...args: unknown[]) =>
      dispatch(channel, args, this.trusted(event), parse, fn, refused),
    );
  }

  /** A one-way channel: a bad message is logged and dropped. */
  private on<T>(channel: string, parse: (x: unknown) => Parsed<T>, fn: (v: T) => void): void {
    ipcMain.on(channel, (event, ...args: unknown[]) => {
      void dispatch(channel, args, this.trusted(event), parse, fn, () => undefined);
    });
  }

  private registerIpc(): void {
    const error = (message: string) => ({ status: 'error' as const, message });
    this.handle(
      SESSION_IPC.startup,
      parseEmpty,
      () => this.startup(),
      () => ({}) as StartupInfo,
    );
    this.handle(
      SESSION_IPC.open,
      parseOpenRequest,
      (req) => this.open(req),
      error as (m: string) => OpenReply,
    );
    this.handle(
      SESSION_IPC.save,
      parseSaveRequest,
      (req) => this.save(req),
      error as (m: string) => SaveReply,
    );
    this.handle(
      SESSION_IPC.recovery,
      parseRecoveryRequest,
      (req) => this.recovery(req.id, req.action),
      error as (m: string) => RecoveryReply,
    );
    this.on(SESSION_IPC.new, parseEmpty, () => {
      this.currentPath = null;
      void this.recent?.setLast(null);
    });
    this.on(SESSION_IPC.state, parseStateMessage, (s) => {
      this.dirty = s.dirty;
      this.name = s.name || UNTITLED;
      if (this.win && !this.win.isDestroyed()) {
        this.win.setDocumentEdited(s.dirty);
        this.win.setRepresentedFilename(this.currentPath ?? '');
      }
    });
    this.on(SESSION_IPC.autosave, parseAutosaveMessage, (m) => {
      if (m.content === null) void this.autosave?.clear();
      else void this.autosave?.save(m.content, { path: this.currentPath, name: this.name });
    });
    this.on(SESSION_IPC.closeReady, parseEmpty, () => {
      this.allowClose = true;
      this.win?.close();
    });
  }

  private async startup(): Promise<StartupInfo> {
    this.pageStarted = true;
    const info: StartupInfo = {};
    const [recovery] = await findRecoveries(this.autosaveDir, this.autosave?.id);
    if (recovery) info.recovery = recovery;
    const fromOutside = this.pendingPath;
    const file = fromOutside ?? this.recent?.lastSession ?? null;
    this.pendingPath = null;
    if (file) {
      info.open = await this.openFile(file, !fromOutside);
      info.openReason = fromOutside ? 'command-line' : 'last-session';
    }
    return info;
  }

  private async open(req: OpenRequest): Promise<OpenReply> {
    let file: string;
    if (req.kind === 'dialog') {
      const opts = { title: 'Open Session', filters: FILTERS, properties: ['openFile' as const] };
      const r = this.win ? await dialog.showOpenDialog(this.win, opts) : await dialog.showOpenDialog(opts);
      if (r.canceled || !r.filePaths[0]) return { status: 'canceled' };
      file = r.filePaths[0];
    } else if (req.kind === 'recent') {
      if (!this.recent?.has(req.path))
        return { status: 'error', message: 'that file is not among the recent sessions' };
      file = req.path;
    } else if (req.kind === 'dropped') {
      file = req.path;
    } else {
      if (!this.pendingPath) return { status: 'error', message: 'no file is waiting to be opened' };
      file = this.pendingPath;
      this.pendingPath = null;
    }
    return this.openFile(file, req.kind === 'recent');
  }

  /** Read and check a file; only a good one becomes the current file and a recent one. */
  private async openFile(file: string, forgetIfMissing: boolean): Promise<OpenReply> {
    const r = await readSessionFile(path.resolve(file));
    if (!r.ok) {
      if (forgetIfMissing && /does not exist/.test(r.message)) {
        await this.recent?.remove(file);
        this.onRecentChanged();
      }
      return { status: 'error', message: r.message };
    }
    this.currentPath = r.path;
    await this.recent?.add(r.path);
    this.onRecentChanged();
    return { status: 'opened', path: r.path, name: r.name, text: r.text };
  }

  private async save(req: SaveRequest): Promise<SaveReply> {
    const bad = checkSessionText(req.content);
    if (bad) return { status: 'error', message: bad };
    let target = !req.saveAs && this.currentPath ? this.currentPath : null;
    if (!target) {
      const suggested = path
        .basename(req.suggestedName || this.name || UNTITLED)
        .replace(/[\\/:*?"<>|]/g, '_');
      const opts = {
        title: 'Save Session',
        defaultPath: this.currentPath ?? path.join(app.getPath('documents'), withSessionExt(suggested)),
        filters: FILTERS,
        properties: ['createDirectory' as const, 'showOverwriteConfirmation' as const],
      };
      const r = this.win ? await dialog.showSaveDialog(this.win, opts) : await dialog.showSaveDialog(opts);
      if (r.canceled || !r.filePath) return { status: 'canceled' };
      target = withSessionExt(r.filePath);
    }
    try {
      await writeFileAtomic(target, req.content);
    } catch (e) {
      return {
        status: 'error',
        message: `could not save ${path.basename(target)}: ${describeWriteError(e, target)}`,
        name: path.basename(target),
      };
    }
    this.currentPath = target;
    await this.recent?.add(target);
    this.onRecentChanged();
    await this.autosave?.clear();
    return { status: 'saved', path: target, name: path.basename(target) };
  }

  private async recovery(id: string, action: 'restore' | 'discard'): Promise<RecoveryReply> {
    const [rec] = (await findRecoveries(this.autosaveDir, this.autosave?.id)).filter((r) => r.id === id);
    if (!rec) return { status: 'error', message: 'that autosaved work is gone' };
    if (action === 'restore') {
      // Keep it as this run's side file before the old one goes, so a crash now loses nothing.
      this.currentPath = rec.path;
      await this.autosave?.save(rec.text, { path: rec.path, name: rec.name });
    }
    await removeRecovery(this.autosaveDir, id);
    return { status: 'ok', path: rec.path, name: rec.name };
  }
}
