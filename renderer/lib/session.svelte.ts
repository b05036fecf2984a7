/**
 * The open session: its name and file, whether it has unsaved changes, and the settings that live
 * only in the session (notes, seed, `lab.params`). The rest of its content lives where the window
 * already keeps it — the tabs (tabs.svelte.ts), the kernel (run.svelte.ts), the checks switched off
 * (checks-settings.svelte.ts), the panel layout (layout.svelte.ts) — and `capture()` / `apply()`
 * move it between those stores and the file format (engine/session, pure TypeScript).
 *
 * "Unsaved" compares the content (engine/session `semanticKey`: not the layout, not the tab in front)
 * with the content as last opened or saved.
 */
import { untrack } from 'svelte';
import {
  DEFAULT_KERNEL,
  loadSession,
  newSession as makeSession,
  semanticKey,
  type Session,
} from '../../engine/session/index.ts';
import { checksSettings } from './checks-settings.svelte.ts';
import { INITIAL_SCRIPT } from './initial-script.ts';
import { layout } from './layout.svelte.ts';
import { monacoLoader } from './monaco-loader.svelte.ts';
import { run, KERNELS, type Kernel } from './run.svelte.ts';
import { tabs } from './tabs.svelte.ts';

export const UNTITLED = 'untitled.iommulab';

class SessionStore {
  name = $state(UNTITLED);
  /** The file on disk (desktop), shown as a tooltip; null for an untitled or browser session. */
  path = $state<string | null>(null);
  dirty = $state(false);
  notes = $state('');
  seed = $state(0);
  /** `lab.params` for runs; replaced as a whole (never mutated in place). */
  params = $state.raw<Record<string, string>>({});
  /** When unsaved work was last kept apart (autosave), for the tooltip. */
  autosavedAt = $state<number | null>(null);
  /** Startup is done: from now on changes are tracked and autosaved. */
  ready = $state(false);
  /** Browser: the File System Access handle Save writes to. Not reactive. */
  handle: unknown = null;

  private cleanKey = '';
  private checkTimer: ReturnType<typeof setTimeout> | null = null;
  private afterCheck: ((dirty: boolean) => void) | null = null;

  /** The whole session as the file format holds it. */
  capture(): Session {
    const scripts = tabs.files();
    const active = tabs.active?.name ?? scripts[0]?.name ?? 'main.ts';
    return makeSession(scripts.length ? scripts : [{ name: 'main.ts', source: '' }], {
      activeScript: active,
      kernel: run.kernel,
      seed: this.seed,
      params: this.params,
      disabledChecks: checksSettings.get(),
      notes: this.notes,
      layout: layout.serialize() as unknown as Record<string, unknown>,
    });
  }

  /**
   * Put a loaded session into the window. `withLayout` false keeps the window's own layout (a
   * session reopened at start). Returns warnings (a layout that could not be used).
   */
  apply(s: Session, withLayout = true): string[] {
    const warnings: string[] = [];
    const now = tabs.files();
    const same =
      s.scripts.length === now.length &&
      s.scripts.every((t, i) => now[i]!.name === t.name && now[i]!.source === t.source);
    if (!same) tabs.replaceAll(s.scripts, s.activeScript);
    else {
      const tab = tabs.list.find((t) => t.name === s.activeScript);
      if (tab) tabs.activeId = tab.id;
    }
    run.kernel = (KERNELS as readonly string[]).includes(s.kernel) ? (s.kernel as Kernel) : DEFAULT_KERNEL;
    this.seed = s.seed;
    this.params = { ...s.params };
    checksSettings.set(s.disabledChecks);
    this.notes = s.notes;
    if (withLayout && s.layout !== undefined && !layout.restore(s.layout)) {
      layout.reset();
      warnings.push("the session's panel layout could not be used; the default layout is shown");
    }
    return warnings;
  }

  /** A fresh session: one starter tab, default settings; the layout stays. */
  blank(): Session {
    return makeSession([{ name: 'main.ts', source: INITIAL_SCRIPT }]);
  }

  /** What is in the window now counts as saved. */
  markClean(s: Session = this.capture()): void {
    this.cleanKey = semanticKey(s);
    this.check();
  }

  /** Compare with a saved version given as file text (none: everything counts as unsaved). */
  markSavedAs(savedText: string | null): void {
    const r = savedText === null ? null : loadSession(savedText);
    this.cleanKey = r?.ok ? semanticKey(r.session) : '';
    this.check();
  }

  /** Settings a run takes from the session. */
  runOptions(): { seed: number; params: Record<string, string> } {
    return { seed: this.seed, params: { ...this.params } };
  }

  /** Compare now (before a question about unsaved changes). */
  check(): boolean {
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkTimer = null;
    const dirty = semanticKey(this.capture()) !== this.cleanKey;
    if (dirty !== this.dirty) this.dirty = dirty;
    if (this.ready) this.afterCheck?.(dirty);
    return dirty;
  }

  /** Something may have changed: compare a moment later (typing is many changes). */
  changed(): void {
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkTimer = setTimeout(() => this.check(), 150);
  }

  /** Watch everything that is session content; `onCheck` runs after each comparison. */
  track(onCheck: (dirty: boolean) => void): () => void {
    this.afterCheck = onCheck;
    const subs: { dispose(): void }[] = [];
    void monacoLoader.load().then((m) => {
      const watch = (model: { onDidChangeContent(f: () => void): { dispose(): void } }) =>
        subs.push(model.onDidChangeContent(() => this.changed()));
      for (const model of m.monaco.editor.getModels()) watch(model);
      subs.push(m.monaco.editor.onDidCreateModel(watch));
    });
    const stopEffects = $effect.root(() => {
      $effect(() => {
        // Reading them is what makes this effect run again when they change.
        void [tabs.list, run.kernel, this.seed, this.params, this.notes, checksSettings.disabled];
        untrack(() => this.changed());
      });
    });
    return () => {
      stopEffects();
      for (const s of subs.splice(0)) s.dispose();
      this.afterCheck = null;
      if (this.checkTimer) clearTimeout(this.checkTimer);
    };
  }
}

export const session = new SessionStore();
