/**
 * Session files in browser mode: Open with the File System Access API where the browser has it (so
 * Save writes back to the same file) or a file input; Save to that file, a save picker, or a download;
 * autosave and the last session in the browser's own storage (browser-store.ts); the files opened or
 * saved through the API are remembered for the recent sessions menu (recent-sessions.svelte.ts).
 */
import { MAX_SESSION_SIZE_TEXT, sizeError } from '../../engine/session/index.ts';
import { browserObjects, browserStore } from './browser-store.ts';
import { recentSessions } from './recent-sessions.svelte.ts';
import { joinTabs } from './tab-presence.ts';
import type {
  OpenResult,
  OpenSource,
  RecoveryOffer,
  SaveResult,
  SessionBackend,
  StartupResult,
} from './session-backend.ts';

/**
 * The lab's most recent last session (name and text, never its file): what a new tab starts from.
 * Each tab also keeps its own last session and file handle (CURRENT_PREFIX, CURRENT_HANDLE_PREFIX and
 * the tab's id): a reload reopens that, so a tab's Save never writes to the file another tab opened.
 */
const CURRENT_KEY = 'iommu-lab.session.current.v1';
const CURRENT_PREFIX = 'iommu-lab.session.current.v2.';
const CURRENT_HANDLE_PREFIX = 'iommu-lab.session.current-handle.v2.';
/**
 * Unsaved work, one slot per browser tab (the tab's id follows; tab-presence.ts): two tabs of the
 * lab never write over each other's. Before slots, every tab shared LEGACY_AUTOSAVE_KEY.
 */
const AUTOSAVE_PREFIX = 'iommu-lab.session.autosave.v2.';
const LEGACY_AUTOSAVE_KEY = 'iommu-lab.session.autosave.v1';
/**
 * Before per-tab last sessions, the one file handle of all tabs (only IndexedDB can hold a handle).
 * Read once, by the first tab that starts without a last session of its own, then removed.
 */
const LEGACY_HANDLE_KEY = 'iommu-lab.session.current-handle.v1';
const TYPES = [{ description: 'IOMMU Lab session', accept: { 'application/json': ['.iommulab'] } }];

/** The parts of the File System Access API used here (not in TypeScript's DOM lib yet). */
interface FsWritable {
  write(data: string): Promise<void>;
  close(): Promise<void>;
}
interface FsFileHandle {
  readonly name: string;
  getFile(): Promise<File>;
  createWritable(): Promise<FsWritable>;
  isSameEntry(other: FsFileHandle): Promise<boolean>;
  /** Chromium: the permission a remembered handle has now, and the question to the user for it. */
  queryPermission?(opts: { mode: 'read' | 'readwrite' }): Promise<PermissionState>;
  requestPermission?(opts: { mode: 'read' | 'readwrite' }): Promise<PermissionState>;
}
interface FsAccessWindow {
  showOpenFilePicker?(opts: object): Promise<FsFileHandle[]>;
  showSaveFilePicker?(opts: object): Promise<FsFileHandle>;
}
const fsWindow = (): FsAccessWindow => window as unknown as FsAccessWindow;

const isAbort = (e: unknown): boolean => e instanceof DOMException && e.name === 'AbortError';

interface Stored {
  name: string;
  content: string;
  savedAt?: number;
}

function parseStored(raw: string | null): Stored | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<Stored>;
    return typeof v.name === 'string' && typeof v.content === 'string' ? (v as Stored) : null;
  } catch {
    return null;
  }
}

export function withExt(name: string): string {
  const base = name.replace(/[\\/:*?"<>|]/g, '_').trim() || 'untitled';
  return base.toLowerCase().endsWith('.iommulab') ? base : `${base}.iommulab`;
}

/** A picked or dropped file's text, or why it cannot be a session. Size first, then strict UTF-8. */
export async function readSessionFile(file: File, handle?: unknown): Promise<OpenResult> {
  const tooBig = sizeError(file.size);
  if (tooBig) return { status: 'error', name: file.name, message: tooBig.message };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
  } catch (e) {
    const why =
      e instanceof TypeError
        ? 'not UTF-8 text (a session file is JSON text)'
        : `cannot read it (${String(e)})`;
    return { status: 'error', name: file.name, message: why };
  }
  return { status: 'opened', name: file.name, text, ...(handle ? { handle } : {}) };
}

const domError = (e: unknown, ...names: string[]): boolean =>
  e instanceof DOMException && names.includes(e.name);

/**
 * Read and write, as Save writes back to the file: a handle from an earlier visit starts without it,
 * and the browser asks the user (which needs the click that chose the file from the menu).
 */
async function mayUse(handle: FsFileHandle): Promise<boolean> {
  const mode = { mode: 'readwrite' } as const;
  if (!handle.queryPermission || (await handle.queryPermission(mode)) === 'granted') return true;
  return (await handle.requestPermission?.(mode)) === 'granted';
}

/** A file from the recent sessions menu; one that is gone is taken off the menu. */
async function openRemembered(handle: FsFileHandle): Promise<OpenResult> {
  const name = handle.name;
  try {
    if (!(await mayUse(handle)))
      return {
        status: 'error',
        name,
        message: 'the browser was not allowed to open it (permission refused); it stays in the recent list',
      };
    return await readSessionFile(await handle.getFile(), handle);
  } catch (e) {
    if (domError(e, 'NotFoundError')) {
      await recentSessions.forget(handle);
      return {
        status: 'error',
        name,
        message: 'the file is no longer there (moved, renamed or deleted); it was taken off the recent list',
      };
    }
    const why = domError(e, 'NotAllowedError', 'SecurityError')
      ? 'the browser did not let the lab ask for permission to open it; try again from the menu'
      : `cannot read it (${e instanceof Error ? e.message : String(e)})`;
    return { status: 'error', name, message: why };
  }
}

/** The file input, for browsers without showOpenFilePicker. Resolves null when the user cancels. */
function pickWithInput(): Promise<File | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = '.iommulab,application/json';
    input.style.display = 'none';
    input.dataset.testid = 'session-file-input';
    const done = (f: File | null) => {
      input.remove();
      resolve(f);
    };
    input.addEventListener('change', () => done(input.files?.[0] ?? null), { once: true });
    input.addEventListener('cancel', () => done(null), { once: true });
    document.body.append(input);
    input.click();
  });
}

function download(name: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * The work left in the slots of tabs that are no longer open (and in the old shared slot), newest
 * first. Work equal to the last saved session is no work: its slot is emptied.
 */
async function leftBehind(
  live: Set<string>,
  saved: string | undefined,
): Promise<{ key: string; work: Stored }[]> {
  const keys = (await browserStore.keys(AUTOSAVE_PREFIX)).filter(
    (k) => !live.has(k.slice(AUTOSAVE_PREFIX.length)),
  );
  const out: { key: string; work: Stored }[] = [];
  for (const key of [...keys, LEGACY_AUTOSAVE_KEY]) {
    const work = parseStored(await browserStore.get(key));
    if (work && work.content !== saved) out.push({ key, work });
    else if (work) browserStore.remove(key);
  }
  return out.sort((a, b) => (b.work.savedAt ?? 0) - (a.work.savedAt ?? 0));
}

/** The last sessions and file handles of tabs that are no longer open: nothing reopens them. */
async function forgetClosedTabs(live: Set<string>): Promise<void> {
  for (const prefix of [CURRENT_PREFIX, CURRENT_HANDLE_PREFIX])
    for (const key of await browserStore.keys(prefix))
      if (!live.has(key.slice(prefix.length))) browserStore.remove(key);
}

/**
 * The tab id whose session this page shows, kept in sessionStorage (a reload keeps it) apart from
 * tab-presence.ts's: a reload that gets a new id still finds its old one here.
 */
const PAGE_TAB_KEY = 'iommu-lab.session.tab';
const pageTab = {
  get(): string | null {
    try {
      return sessionStorage.getItem(PAGE_TAB_KEY);
    } catch {
      return null;
    }
  },
  set(id: string): void {
    try {
      sessionStorage.setItem(PAGE_TAB_KEY, id);
    } catch {
      // no sessionStorage: a reload finds its session by the tab's id alone
    }
  },
};

const isHandle = (h: unknown): h is FsFileHandle => !!h && typeof (h as FsFileHandle).getFile === 'function';

export class BrowserSessionBackend implements SessionBackend {
  readonly kind = 'browser' as const;
  /** The last session's file, reopened at startup: not a new use of it for the recent list. */
  private reopened: FsFileHandle | null = null;
  /** This tab's autosave slot (set at startup, before anything is autosaved). */
  private slot = LEGACY_AUTOSAVE_KEY;
  /** This tab's id (set at startup): its own last session's keys. */
  private tab: string | null = null;
  /** The last session reopened at startup: adopting it again is no news for other tabs. */
  private atStart: Stored | null = null;

  async startup(): Promise<StartupResult> {
    // Only files picked through the File System Access API have a handle to list.
    if (fsWindow().showOpenFilePicker) void recentSessions.enable();
    const before = pageTab.get();
    const tabs = await joinTabs();
    this.tab = tabs.id;
    this.slot = AUTOSAVE_PREFIX + tabs.id;
    pageTab.set(tabs.id);
    return tabs.exclusive(async () => {
      const live = await tabs.liveIds();
      // A reload whose old page let go of the tab's id too late comes back under a new id: the old
      // id's session, file and work are still this tab's. (A duplicated tab's original is open.)
      if (before && before !== tabs.id && !live.has(before)) await this.takeOver(before);
      await forgetClosedTabs(live);
      return this.reopen(live);
    });
  }

  /** Move a gone id's last session, file handle and unsaved work to this tab's keys. */
  private async takeOver(id: string): Promise<void> {
    const last = await browserStore.get(CURRENT_PREFIX + id);
    if (last !== null && browserStore.put(CURRENT_PREFIX + this.tab, last)) {
      const handle = await browserObjects.get(CURRENT_HANDLE_PREFIX + id);
      if (handle) await browserObjects.put(CURRENT_HANDLE_PREFIX + this.tab, handle);
    }
    const work = await browserStore.get(AUTOSAVE_PREFIX + id);
    if (work !== null && browserStore.put(this.slot, work)) browserStore.remove(AUTOSAVE_PREFIX + id);
  }

  /** The last session to reopen and the unsaved work to offer (in the claim: no other tab takes it). */
  private async reopen(live: Set<string>): Promise<StartupResult> {
    // A reload reopens this tab's own last session and file; a new tab starts from the lab's last
    // session with no file, so its Save asks where (never writing over another tab's file).
    const own = parseStored(await browserStore.get(CURRENT_PREFIX + this.tab));
    const current = own ?? parseStored(await browserStore.get(CURRENT_KEY));
    let handle: unknown = own ? await browserObjects.get(CURRENT_HANDLE_PREFIX + this.tab) : undefined;
    if (!own) {
      // A lab from before per-tab last sessions: its one handle goes to the first tab that starts.
      handle = await browserObjects.get(LEGACY_HANDLE_KEY);
      if (handle !== undefined) browserStore.remove(LEGACY_HANDLE_KEY);
    }
    const out: StartupResult = {};
    if (current) {
      // After a reload Save still writes to the file the session came from (asking permission again).
      const same = isHandle(handle) && handle.name === current.name ? handle : null;
      if (same) this.reopened = same;
      this.atStart = current;
      out.open = {
        status: 'opened',
        name: current.name,
        text: current.content,
        ...(same ? { handle: same } : {}),
      };
      out.openReason = 'last-session';
    }
    const offer = (work: Stored, extra: Partial<RecoveryOffer> = {}): RecoveryOffer => ({
      id: this.slot,
      text: work.content,
      name: work.name,
      path: null,
      savedAt: work.savedAt ?? Date.now(),
      ...extra,
    });
    // This tab's own work first: the page was reloaded, or the browser brought the tab back.
    const work = parseStored(await browserStore.get(this.slot));
    if (work && work.content !== current?.content) {
      out.recovery = offer(work);
      return out;
    }
    if (work) browserStore.remove(this.slot);
    // Else the newest work of a tab that is gone, moved into this tab's slot so no other tab takes
    // it too; the work of tabs still open stays theirs.
    const gone = await leftBehind(live, current?.content);
    const first = gone[0];
    if (!first || !browserStore.put(this.slot, JSON.stringify(first.work))) return out;
    browserStore.remove(first.key);
    out.recovery = offer(first.work, {
      fromClosedTab: true,
      ...(gone.length > 1 ? { moreLeft: gone.length - 1 } : {}),
    });
    return out;
  }

  async open(source: OpenSource): Promise<OpenResult> {
    if (source.kind === 'file') return readSessionFile(source.file);
    if (source.kind === 'handle') return openRemembered(source.handle as FsFileHandle);
    if (source.kind !== 'dialog')
      return {
        status: 'error',
        message: 'the browser has no pending files, and keeps its recent ones as handles',
      };
    const w = fsWindow();
    if (w.showOpenFilePicker) {
      try {
        const [handle] = await w.showOpenFilePicker({ types: TYPES, multiple: false });
        if (!handle) return { status: 'canceled' };
        return readSessionFile(await handle.getFile(), handle);
      } catch (e) {
        if (isAbort(e)) return { status: 'canceled' };
        // A browser that has the API but refuses it here (permissions, policy): the file input still works.
      }
    }
    const file = await pickWithInput();
    return file ? readSessionFile(file) : { status: 'canceled' };
  }

  async save(
    content: string,
    opts: { saveAs: boolean; name: string; handle?: unknown },
  ): Promise<SaveResult> {
    const name = withExt(opts.name);
    const w = fsWindow();
    let handle = opts.saveAs ? undefined : (opts.handle as FsFileHandle | undefined);
    try {
      // A handle from before a reload has lost its permission: asked again, else a new place is picked.
      if (handle && !(await mayUse(handle))) handle = undefined;
      if (!handle && w.showSaveFilePicker) {
        try {
          handle = await w.showSaveFilePicker({ suggestedName: name, types: TYPES });
        } catch (e) {
          if (isAbort(e)) return { status: 'canceled' };
          handle = undefined; // no picker here after all: download instead
        }
      }
      if (handle) {
        const writable = await handle.createWritable();
        await writable.write(content);
        // The browser writes to a swap file and moves it over the file on close: all or nothing.
        await writable.close();
        return { status: 'saved', name: handle.name, handle };
      }
      download(name, content);
      return { status: 'saved', name };
    } catch (e) {
      const why = domError(e, 'QuotaExceededError')
        ? 'the disk is full'
        : domError(e, 'NotAllowedError', 'NoModificationAllowedError')
          ? 'the browser was not allowed to write that file'
          : e instanceof Error
            ? e.message
            : String(e);
      // The file that failed: the one picked, which Save As names anew, else the download's.
      const failed = handle?.name ?? name;
      return { status: 'error', name: failed, message: `could not save ${failed}: ${why}` };
    }
  }

  async recovery(_id: string, action: 'restore' | 'discard') {
    if (action === 'discard') browserStore.remove(this.slot);
    return { ok: true as const, path: null };
  }

  newSession(): void {}

  setState(): void {}

  autosave(content: string | null, name: string): void {
    if (content === null) browserStore.remove(this.slot);
    else if (!browserStore.put(this.slot, JSON.stringify({ name, content, savedAt: Date.now() })))
      console.warn(`autosave: the browser's storage refused it (sessions up to ${MAX_SESSION_SIZE_TEXT})`);
  }

  remember(content: string, name: string, handle?: unknown): void {
    const value = JSON.stringify({ name, content });
    const reopened = this.atStart?.content === content && this.atStart.name === name;
    this.atStart = null;
    // The session a tab reopens at start is not the lab's newest: another tab may have opened one since.
    if (!reopened || !this.tab) browserStore.put(CURRENT_KEY, value);
    if (this.tab) {
      browserStore.put(CURRENT_PREFIX + this.tab, value);
      if (handle) void browserObjects.put(CURRENT_HANDLE_PREFIX + this.tab, handle);
      else browserStore.remove(CURRENT_HANDLE_PREFIX + this.tab);
    }
    if (handle && handle !== this.reopened) void recentSessions.remember(handle as FsFileHandle);
    this.reopened = null;
  }

  onEvent(): () => void {
    return () => {};
  }

  closeReady(): void {}
}
