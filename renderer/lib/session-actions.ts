/**
 * The session commands — New, Open, Save, Save As, open a recent or dropped file (a recent file is a
 * path main keeps on the desktop, a remembered file handle in the browser) — and the session's life
 * around them: startup (reopen the last session, offer autosaved work after a crash), unsaved-change
 * questions before a session is replaced or the window closes, and autosave while unsaved.
 * The same code serves the desktop app and the browser; session-backend.ts is where they differ.
 *
 * A file that cannot be loaded never touches the open session: it is checked completely (engine/session)
 * before anything in the window changes, and its reason is shown as text.
 */
import {
  FORMAT_VERSION,
  loadSession,
  serializeSession,
  sizeError,
  type LoadResult,
} from '../../engine/session/index.ts';
import { AutosaveTimer } from './autosave-timer.ts';
import { editorChanges } from './editor-text.ts';
import { NEW_TAB_SCRIPT } from './initial-script.ts';
import type { Disposer } from './emitter.ts';
import { run } from './run.svelte.ts';
import type { OpenedFile, OpenSource, SessionBackend } from './session-backend.ts';
import { BrowserSessionBackend } from './session-browser.ts';
import { DesktopSessionBackend } from './session-desktop.ts';
import { prompts, recoveryBanner } from './session-prompt.svelte.ts';
import { session, UNTITLED } from './session.svelte.ts';
import { labBridge } from './shell.ts';
import { tabs } from './tabs.svelte.ts';

let backend: SessionBackend = new BrowserSessionBackend();
/** The text last handed to autosave (null: none kept). */
let autosaved: string | null = null;
const timer = new AutosaveTimer(() => writeAutosave());
/** One session command at a time: a second Ctrl+O while a dialog is up does nothing. */
let busy = false;

function title(): void {
  document.title = `${session.dirty ? '● ' : ''}${session.name} — IOMMU Lab`;
}

function writeAutosave(): void {
  if (!session.dirty) return;
  const text = serializeSession(session.capture());
  if (text === autosaved) return;
  if (sizeError(text.length * 3) && sizeError(new TextEncoder().encode(text).length)) return;
  backend.autosave(text, session.name);
  autosaved = text;
  session.autosavedAt = Date.now();
}

/**
 * The restored work's text while the banner asks about it. Once the user goes on (edits, saves,
 * opens or starts another session) the question is settled as Keep: a Discard then would throw
 * away what was done since, which the banner never offered.
 */
let restoredText: string | null = null;

function settleRecovery(why: string): void {
  const offer = recoveryBanner.offer;
  restoredText = null;
  if (!offer) return;
  recoveryBanner.offer = null;
  run.say(`kept the restored changes to ${offer.name} (${why})`, 'info');
}

function afterCheck(dirty: boolean): void {
  if (restoredText !== null && serializeSession(session.capture()) !== restoredText)
    settleRecovery('you went on working');
  backend.setState(dirty, session.name);
  title();
  if (dirty) timer.changed();
  else {
    timer.cancel();
    if (autosaved !== null) {
      backend.autosave(null, session.name);
      autosaved = null;
      session.autosavedAt = null;
    }
  }
}

/** Take a file's text as the open session, or say why not (and change nothing). */
function adopt(
  file: { name: string; path?: string | null; handle?: unknown; text: string },
  opts: { withLayout?: boolean; quiet?: boolean } = {},
): boolean {
  const r: LoadResult = loadSession(file.text);
  if (!r.ok) {
    void showLoadError(file.name, r.error.message);
    return false;
  }
  settleRecovery(`${file.name} was opened`);
  const warnings = session.apply(r.session, opts.withLayout ?? true);
  session.name = file.name;
  session.path = file.path ?? null;
  session.handle = file.handle ?? null;
  // The editor holds a tab with one kind of line ending and no byte order mark: what it holds is
  // the saved state, or a file with mixed endings would count as unsaved before anything is typed.
  const held = tabs.files();
  session.markClean({ ...r.session, scripts: held });
  backend.remember(file.text, file.name, file.handle);
  const notes = [...r.warnings, ...warnings];
  if (r.formatVersion < FORMAT_VERSION)
    notes.unshift(`made with format ${r.formatVersion}; saving writes format ${FORMAT_VERSION}`);
  // A session reopened at start was announced when it was first opened.
  const changes = opts.quiet ? [] : editorChanges(r.session.scripts, held);
  if (notes.length) run.say(`${file.name}: ${[...notes, ...changes].join('; ')}`, 'warn');
  else if (changes.length) run.say(`opened ${file.name}; ${changes.join('; ')}`, 'info');
  else if (!opts.quiet) run.say(`opened ${file.name}`, 'info');
  return true;
}

function showLoadError(name: string | undefined, message: string): Promise<void> {
  run.say(`could not open ${name ?? 'the file'}: ${message}`, 'error');
  return prompts.tell(
    'load-error',
    `Could not open ${name ?? 'the file'}`,
    message,
    'error',
    'The open session is unchanged.',
  );
}

/** Ask before the open session is replaced; false means stop. */
async function mayReplace(doing: string): Promise<boolean> {
  if (!session.check()) return true;
  const answer = await prompts.ask({
    kind: 'unsaved',
    title: 'Unsaved changes',
    message: `Save the changes to ${session.name} before ${doing}?`,
    detail: "Your changes are lost if you don't save them.",
    tone: 'warn',
    buttons: [
      { id: 'save', label: 'Save', primary: true },
      { id: 'discard', label: "Don't Save" },
      { id: 'cancel', label: 'Cancel' },
    ],
    cancelId: 'cancel',
  });
  if (answer === 'save') return (await save(false)) === 'saved';
  return answer === 'discard';
}

async function exclusive<T>(fn: () => Promise<T>): Promise<T | undefined> {
  if (busy) return undefined;
  busy = true;
  try {
    return await fn();
  } finally {
    busy = false;
  }
}

export function saveSession(saveAs = false): Promise<'saved' | 'canceled' | 'error' | undefined> {
  return exclusive(() => save(saveAs));
}

async function save(saveAs: boolean): Promise<'saved' | 'canceled' | 'error'> {
  const s = session.capture();
  const text = serializeSession(s);
  const tooBig = sizeError(new TextEncoder().encode(text).length);
  if (tooBig) {
    await prompts.tell(
      'save-error',
      `Could not save ${session.name}`,
      tooBig.message,
      'error',
      'Your work is still in the editor.',
    );
    return 'error';
  }
  const picker = backend.kind === 'browser' && 'showSaveFilePicker' in window && (saveAs || !session.handle);
  if (picker && !(await readyToPick(`Save ${session.name}`, 'Choose Where…'))) return 'canceled';
  const r = await backend.save(text, { saveAs, name: session.name, handle: session.handle });
  if (r.status === 'canceled') {
    run.say('save canceled', 'info');
    return 'canceled';
  }
  if (r.status === 'error') {
    run.say(`${r.message} — your work is still in the editor`, 'error');
    // Save As wrote to another file than the session's: only a name the backend gives is sure.
    const failed = r.name ?? (saveAs ? null : session.name);
    await prompts.tell(
      'save-error',
      failed ? `Could not save ${failed}` : 'Could not save the session',
      r.message,
      'error',
      'Your work is still in the editor.',
    );
    return 'error';
  }
  session.name = r.name;
  session.path = r.path ?? null;
  if (r.handle !== undefined) session.handle = r.handle;
  session.markClean(s);
  backend.remember(text, r.name, r.handle);
  settleRecovery('they were saved');
  run.say(`saved ${r.name}`, 'info');
  return 'saved';
}

/**
 * Browsers show a file picker only right after a click or key press on the page. When that moment
 * has passed (a question came first, or the key was one the browser keeps for itself), one click on
 * our own button brings it back.
 */
async function readyToPick(
  title: string,
  label: string,
  message = 'The browser opens its file dialog after a click.',
): Promise<boolean> {
  if (backend.kind !== 'browser') return true;
  const ua = (navigator as { userActivation?: { isActive: boolean } }).userActivation;
  if (!ua || ua.isActive) return true;
  const answer = await prompts.ask({
    kind: 'pick',
    title,
    message,
    tone: 'info',
    buttons: [
      { id: 'pick', label, primary: true },
      { id: 'cancel', label: 'Cancel' },
    ],
    cancelId: 'cancel',
  });
  return answer === 'pick';
}

export function openSession(source: OpenSource = { kind: 'dialog' }): Promise<boolean | undefined> {
  return exclusive(async () => {
    if (!(await mayReplace('opening another session'))) return false;
    if (source.kind === 'dialog' && !(await readyToPick('Open a session', 'Choose File…'))) return false;
    // A recent file may need the user's permission again, which the browser also asks only after a click.
    const again = 'The browser asks for permission to reopen a file after a click.';
    if (source.kind === 'handle' && !(await readyToPick('Open a recent session', 'Open', again)))
      return false;
    const r = await backend.open(source);
    if (r.status === 'canceled') return false;
    if (r.status === 'error') {
      await showLoadError(r.name, r.message);
      return false;
    }
    return openedFile(r);
  });
}

function openedFile(r: OpenedFile): boolean {
  if (!adopt(r)) return false;
  // A file with no path on disk (dragged from another app) must not be saved over the previous file.
  if (backend.kind === 'desktop' && !r.path) backend.newSession();
  return true;
}

export function newSession(): Promise<boolean | undefined> {
  return exclusive(async () => {
    if (!(await mayReplace('starting a new session'))) return false;
    settleRecovery('a new session was started');
    const s = session.blank();
    session.apply(s, false);
    session.name = UNTITLED;
    session.path = null;
    session.handle = null;
    session.markClean(s);
    backend.newSession();
    backend.remember(serializeSession(s), UNTITLED);
    run.say('new session', 'info');
    return true;
  });
}

/** The file as it was opened at start: what Discard goes back to. */
let lastOpened: { name: string; path?: string | null; text: string } | null = null;

/** The banner's answer about autosaved work put back at start: keep it, or go back to the saved version. */
export async function answerRecovery(keep: boolean): Promise<void> {
  const offer = recoveryBanner.offer;
  if (!offer) return;
  recoveryBanner.offer = null;
  restoredText = null;
  if (keep) {
    run.say(`kept the unsaved changes to ${offer.name}`, 'info');
    return;
  }
  let back = lastOpened;
  if (!back && offer.path && backend.kind === 'desktop') {
    const r = await backend.open({ kind: 'recent', path: offer.path });
    if (r.status === 'opened') back = r;
  }
  if (back) adopt(back, { withLayout: false, quiet: true });
  else {
    const s = session.blank();
    session.apply(s, false);
    session.name = UNTITLED;
    session.path = null;
    session.markClean(s);
    backend.newSession();
  }
  run.say(`discarded the unsaved changes to ${offer.name}`, 'info');
}

async function startup(): Promise<void> {
  await tabs.init();
  session.markClean();
  // What the window showed before the backend's start-up, which waits on storage: text typed
  // meanwhile is unsaved work, never the saved state other tabs of the lab reopen.
  const shownAtStart = serializeSession(session.capture());
  let info: Awaited<ReturnType<SessionBackend['startup']>> = {};
  try {
    info = await backend.startup();
  } catch (e) {
    console.warn('session startup:', e);
  }
  const open = info.open;
  if (open?.status === 'opened') {
    const atStart = info.openReason === 'last-session';
    if (adopt(open, { withLayout: !atStart, quiet: atStart })) lastOpened = open;
  } else if (open?.status === 'error') {
    if (info.openReason === 'command-line') await showLoadError(open.name, open.message);
    else run.say(`could not reopen the last session: ${open.message}`, 'warn');
  }
  if (!lastOpened && backend.kind === 'browser') {
    // First visit: what the window showed at start is the saved state to compare with (and to go back to).
    backend.remember(shownAtStart, session.name);
    lastOpened = { name: session.name, text: shownAtStart };
  }
  const rec = info.recovery;
  if (rec) {
    // Autosaved work from a run that did not close cleanly is put back at once — nothing typed is
    // lost by default — and the banner offers to keep it or to go back to the saved version.
    const r = loadSession(rec.text);
    const took = r.ok ? await backend.recovery(rec.id, 'restore') : null;
    if (r.ok && took?.ok) {
      // Browser: the adopted session's name (the desktop's side file knows its path, checked below).
      const adopted = backend.kind === 'browser' ? session.name : rec.name;
      session.apply(r.session, false);
      session.name = rec.name;
      if ((rec.path ?? null) !== session.path) {
        session.path = rec.path;
        lastOpened = null;
      }
      // Work of a closed tab, or of another file than the one reopened, is not that file's: Save
      // asks where to save it, and Discard never goes back to another tab's file.
      if (rec.fromClosedTab || rec.name !== adopted) session.handle = null;
      if (rec.name !== adopted) lastOpened = null;
      else if (rec.fromClosedTab && lastOpened)
        lastOpened = { name: lastOpened.name, path: lastOpened.path ?? null, text: lastOpened.text };
      session.markSavedAs(lastOpened?.text ?? null);
      // It is this run's side file now: once the session is clean again, it is removed.
      autosaved = rec.text;
      restoredText = serializeSession(session.capture());
      recoveryBanner.offer = rec;
    } else {
      await backend.recovery(rec.id, 'discard');
      const why = r.ok ? (took && !took.ok ? took.message : 'unknown') : r.error.message;
      run.say(`autosaved work could not be restored (${why}); it was dropped`, 'warn');
    }
  }
  session.ready = true;
  session.check();
  title();
}

function onDrop(e: DragEvent): void {
  const file = e.dataTransfer?.files?.[0];
  if (!file) return;
  e.preventDefault();
  e.stopPropagation();
  if (!file.name.toLowerCase().endsWith('.iommulab')) {
    void showLoadError(file.name, 'only session files (.iommulab) can be dropped here');
    return;
  }
  void openSession({ kind: 'file', file });
}

function onDragOver(e: DragEvent): void {
  if (!e.dataTransfer?.types.includes('Files')) return;
  e.preventDefault();
  e.stopPropagation();
  e.dataTransfer.dropEffect = 'copy';
}

/** Ctrl/Cmd+S, Ctrl/Cmd+Shift+S, Ctrl/Cmd+O, Ctrl/Cmd+N (the desktop menu shows the same keys). */
function onKey(e: KeyboardEvent): void {
  const mod = e.ctrlKey || e.metaKey;
  if (!mod || e.altKey) return;
  const k = e.key.toLowerCase();
  let action: (() => void) | null = null;
  if (k === 's') action = () => void saveSession(e.shiftKey);
  else if (k === 'o' && !e.shiftKey) action = () => void openSession();
  else if (k === 'n' && !e.shiftKey) action = () => void newSession();
  if (!action) return;
  e.preventDefault();
  e.stopPropagation();
  action();
}

function onBeforeUnload(e: BeforeUnloadEvent): void {
  // The text is kept either way (written now, synchronously); the browser still asks, as asked to.
  timer.flush();
  if (session.check()) {
    e.preventDefault();
    e.returnValue = '';
  }
}

/**
 * Close a tab. Its text goes with it, so when there is text that is not in the saved session (the
 * session has unsaved changes) the user is asked first: nothing typed is lost without a word.
 */
export async function closeTab(id: number): Promise<boolean> {
  const tab = tabs.list.find((t) => t.id === id);
  if (!tab || tabs.list.length <= 1) return false;
  const text = tabs.files().find((f) => f.name === tab.name)?.source ?? '';
  // A new tab's template, or nothing, is not work.
  const typed = text.trim() !== '' && text !== NEW_TAB_SCRIPT;
  if (typed && session.check()) {
    const answer = await prompts.ask({
      kind: 'close-tab',
      title: `Close ${tab.name}?`,
      message: `${tab.name} has text that is not in a saved session.`,
      detail: 'Closing the tab throws its text away. Save the session first to keep it.',
      tone: 'warn',
      buttons: [
        { id: 'close', label: 'Close tab' },
        { id: 'cancel', label: 'Cancel', primary: true },
      ],
      cancelId: 'cancel',
    });
    if (answer !== 'close') return false;
  }
  tabs.close(id);
  return true;
}

/** The desktop menu's session commands (lab-controller.ts forwards them). */
export function sessionMenu(action: 'new' | 'open' | 'save' | 'save-as' | 'open-recent', arg?: string): void {
  if (action === 'new') void newSession();
  else if (action === 'open') void openSession();
  else if (action === 'save') void saveSession(false);
  else if (action === 'save-as') void saveSession(true);
  else if (arg) void openSession({ kind: 'recent', path: arg });
}

export function startSession(): Disposer {
  const bridge = labBridge();
  backend = bridge?.session ? new DesktopSessionBackend(bridge.session) : new BrowserSessionBackend();
  const stopTracking = session.track(afterCheck);
  const offEvents = backend.onEvent((ev) => {
    if (ev.type === 'open-request') void openSession({ kind: 'pending' });
    else
      void saveSession(false).then((r) => {
        if (r === 'saved') backend.closeReady();
      });
  });
  window.addEventListener('keydown', onKey, true);
  window.addEventListener('dragover', onDragOver, true);
  window.addEventListener('drop', onDrop, true);
  const flush = () => timer.flush();
  if (backend.kind === 'browser') window.addEventListener('beforeunload', onBeforeUnload);
  window.addEventListener('pagehide', flush);
  void startup();
  return () => {
    stopTracking();
    offEvents();
    timer.cancel();
    window.removeEventListener('keydown', onKey, true);
    window.removeEventListener('dragover', onDragOver, true);
    window.removeEventListener('drop', onDrop, true);
    window.removeEventListener('beforeunload', onBeforeUnload);
    window.removeEventListener('pagehide', flush);
  };
}
