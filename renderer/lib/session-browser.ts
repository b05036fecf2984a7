/**
 * Session files in browser mode: Open with the File System Access API where the browser has it (so
 * Save writes back to the same file) or a file input; Save to that file, a save picker, or a download;
 * autosave and the last session in the browser's own storage (browser-store.ts).
 */
import { MAX_SESSION_SIZE_TEXT, sizeError } from '../../engine/session/index.ts';
import { browserStore } from './browser-store.ts';
import type { OpenResult, OpenSource, SaveResult, SessionBackend, StartupResult } from './session-backend.ts';

const CURRENT_KEY = 'iommu-lab.session.current.v1';
const AUTOSAVE_KEY = 'iommu-lab.session.autosave.v1';
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

export class BrowserSessionBackend implements SessionBackend {
  readonly kind = 'browser' as const;

  async startup(): Promise<StartupResult> {
    const current = parseStored(await browserStore.get(CURRENT_KEY));
    const autosaved = parseStored(await browserStore.get(AUTOSAVE_KEY));
    const out: StartupResult = {};
    if (current) {
      out.open = { status: 'opened', name: current.name, text: current.content };
      out.openReason = 'last-session';
    }
    if (autosaved && autosaved.content !== current?.content)
      out.recovery = {
        id: 'browser',
        text: autosaved.content,
        name: autosaved.name,
        path: null,
        savedAt: autosaved.savedAt ?? Date.now(),
      };
    return out;
  }

  async open(source: OpenSource): Promise<OpenResult> {
    if (source.kind === 'file') return readSessionFile(source.file);
    if (source.kind !== 'dialog')
      return { status: 'error', message: 'the browser has no recent or pending files' };
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
      const why =
        e instanceof DOMException && e.name === 'QuotaExceededError'
          ? 'the disk is full'
          : e instanceof DOMException &&
              (e.name === 'NotAllowedError' || e.name === 'NoModificationAllowedError')
            ? 'the browser was not allowed to write that file'
            : e instanceof Error
              ? e.message
              : String(e);
      return { status: 'error', message: `could not save ${name}: ${why}` };
    }
  }

  async recovery(_id: string, action: 'restore' | 'discard') {
    if (action === 'discard') browserStore.remove(AUTOSAVE_KEY);
    return { ok: true as const, path: null };
  }

  newSession(): void {}

  setState(): void {}

  autosave(content: string | null, name: string): void {
    if (content === null) browserStore.remove(AUTOSAVE_KEY);
    else if (!browserStore.put(AUTOSAVE_KEY, JSON.stringify({ name, content, savedAt: Date.now() })))
      console.warn(`autosave: the browser's storage refused it (sessions up to ${MAX_SESSION_SIZE_TEXT})`);
  }

  remember(content: string, name: string): void {
    browserStore.put(CURRENT_KEY, JSON.stringify({ name, content }));
  }

  onEvent(): () => void {
    return () => {};
  }

  closeReady(): void {}
}
