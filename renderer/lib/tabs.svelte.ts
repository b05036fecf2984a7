/**
 * The editor's tabs: one script each. Tab names are file names (`main.ts`, `lib/helpers.ts`), the names
 * the engine uses in errors and the names scripts import each other by (`./helpers.ts`). Monaco models
 * live outside reactive state (Svelte must not proxy them); the reactive list holds ids and names.
 */
import type { SourceFile } from '../../engine/host/protocol.ts';
import { SCRIPT_NAME_RE } from '../../engine/session/index.ts';
import type { monaco } from './monaco.ts';
import { monacoLoader } from './monaco-loader.svelte.ts';
import { INITIAL_SCRIPT, NEW_TAB_SCRIPT } from './initial-script.ts';

export interface TabInfo {
  id: number;
  name: string;
}

/**
 * In sessionStorage: a reload keeps this browser tab's texts, and another tab of the lab never starts
 * with them (each tab's unsaved work comes back through its own autosave, session-browser.ts).
 */
const STORAGE_KEY = 'iommu-lab.tabs.v1';
/**
 * Why a tab name is refused. Tab names follow the session file's rule (SCRIPT_NAME_RE), folders
 * included as the CLI writes them, so that every tab can be saved and every saved tab reopened.
 */
const NAME_RULE =
  'a name like helpers.ts or lib/helpers.ts (letters, digits, _ . -, a / after a folder; ending .ts or .js)';

type Monaco = typeof monaco;

/** Monaco's API; only called once `init` has loaded it. */
function api(): Monaco {
  const m = monacoLoader.current;
  if (!m) throw new Error('the editor is not loaded yet');
  return m.monaco;
}

function uriFor(name: string): monaco.Uri {
  return api().Uri.parse(monacoLoader.current!.SCRIPT_ROOT + name);
}

class TabsStore {
  list = $state<TabInfo[]>([]);
  activeId = $state(0);
  private models = new Map<number, monaco.editor.ITextModel>();
  private nextId = 1;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;

  get active(): TabInfo | undefined {
    return this.list.find((t) => t.id === this.activeId);
  }

  model(id: number): monaco.editor.ITextModel | undefined {
    return this.models.get(id);
  }

  modelByName(name: string): monaco.editor.ITextModel | undefined {
    const tab = this.list.find((t) => t.name === name);
    return tab ? this.models.get(tab.id) : undefined;
  }

  /** Load the editor, then restore the last tabs (browser storage) or open the starter scenario. */
  async init(): Promise<void> {
    await monacoLoader.load();
    if (this.list.length) return;
    const saved = loadSaved();
    if (saved?.length) for (const t of saved) this.add(t.name, t.source);
    else this.add('main.ts', INITIAL_SCRIPT);
    this.activeId = this.list[0]!.id;
  }

  /** Open a new tab with a free name (`scratch-2.ts`…) and make it active. */
  create(): TabInfo {
    let n = this.list.length + 1;
    while (this.list.some((t) => t.name === `scratch-${n}.ts`)) n++;
    const tab = this.add(`scratch-${n}.ts`, NEW_TAB_SCRIPT);
    this.activeId = tab.id;
    return tab;
  }

  /**
   * Open a file in a new tab and make it active (the scenario gallery). A name already open gets a
   * numbered one (`unmap-hole-2.ts`) so nothing typed is replaced.
   */
  open(name: string, source: string): TabInfo {
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '.ts';
    let free = name;
    for (let n = 2; this.list.some((t) => t.name === free); n++) free = `${stem}-${n}${ext}`;
    const tab = this.add(free, source);
    this.activeId = tab.id;
    return tab;
  }

  close(id: number): void {
    if (this.list.length <= 1) return;
    const idx = this.list.findIndex((t) => t.id === id);
    if (idx < 0) return;
    this.models.get(id)?.dispose();
    this.models.delete(id);
    this.list = this.list.filter((t) => t.id !== id);
    if (this.activeId === id) this.activeId = this.list[Math.min(idx, this.list.length - 1)]!.id;
    this.scheduleSave();
  }

  /** Rename a tab; returns an error message, or null when done. */
  rename(id: number, name: string): string | null {
    const trimmed = name.trim();
    const tab = this.list.find((t) => t.id === id);
    if (!tab) return 'no such tab';
    if (trimmed === tab.name) return null;
    if (!SCRIPT_NAME_RE.test(trimmed)) return NAME_RULE;
    if (this.list.some((t) => t.name === trimmed)) return `${trimmed} is already open`;
    // A model's URI is fixed, and the URI is the file name TypeScript sees: make a new model. A
    // scenario helper's hidden model may hold the name (lib/…): the tab takes its place, as in add.
    const old = this.models.get(id)!;
    api().editor.getModel(uriFor(trimmed))?.dispose();
    const model = api().editor.createModel(old.getValue(), languageOf(trimmed), uriFor(trimmed));
    this.watch(model);
    this.models.set(id, model);
    old.dispose();
    this.list = this.list.map((t) => (t.id === id ? { id, name: trimmed } : t));
    this.scheduleSave();
    return null;
  }

  /** Replace every tab at once (a session was opened): fresh models, `activeName` in front. */
  replaceAll(files: SourceFile[], activeName?: string): void {
    if (files.length === 0) return;
    for (const m of this.models.values()) m.dispose();
    this.models.clear();
    this.list = [];
    for (const f of files) this.add(f.name, f.source);
    this.activeId = (this.list.find((t) => t.name === activeName) ?? this.list[0])!.id;
  }

  /** Every tab as a file for the engine. */
  files(): SourceFile[] {
    return this.list.map((t) => ({ name: t.name, source: this.models.get(t.id)?.getValue() ?? '' }));
  }

  private add(name: string, source: string): TabInfo {
    const id = this.nextId++;
    const existing = api().editor.getModel(uriFor(name));
    existing?.dispose();
    const model = api().editor.createModel(source, languageOf(name), uriFor(name));
    this.watch(model);
    this.models.set(id, model);
    const tab = { id, name };
    this.list = [...this.list, tab];
    this.scheduleSave();
    return tab;
  }

  private watch(model: monaco.editor.ITextModel): void {
    model.onDidChangeContent(() => this.scheduleSave());
  }

  /** Keep what was typed across reloads (the session file format arrives separately). */
  private scheduleSave(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      try {
        sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this.files()));
      } catch {
        // Storage full or disabled: the editor keeps its text; nothing else depends on this.
      }
    }, 300);
  }
}

function languageOf(name: string): string {
  return name.endsWith('.js') ? 'javascript' : 'typescript';
}

function loadSaved(): SourceFile[] | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const data: unknown = JSON.parse(raw);
    if (!Array.isArray(data)) return null;
    const files = data.filter(
      (f): f is SourceFile =>
        typeof f === 'object' &&
        f !== null &&
        typeof f.name === 'string' &&
        SCRIPT_NAME_RE.test(f.name) &&
        typeof f.source === 'string',
    );
    return files.length ? files : null;
  } catch {
    return null;
  }
}

export const tabs = new TabsStore();
