/**
 * Light, dark or follow the system. The page's colours come from CSS variables keyed on
 * `<html data-theme>`; Monaco gets the matching theme; the desktop shell is told so native frames follow.
 */
import { monacoLoader } from './monaco-loader.svelte.ts';
import { labBridge } from './shell.ts';
import type { Disposer } from './emitter.ts';

export type ThemeChoice = 'system' | 'light' | 'dark';
const STORAGE_KEY = 'iommu-lab.theme';

class ThemeStore {
  choice = $state<ThemeChoice>('system');
  systemDark = $state(false);
  effective = $derived<'light' | 'dark'>(
    this.choice === 'system' ? (this.systemDark ? 'dark' : 'light') : this.choice,
  );

  /** Start following the system setting; returns the disposer of that listener. */
  init(): Disposer {
    const saved = safeGet(STORAGE_KEY);
    if (saved === 'light' || saved === 'dark' || saved === 'system') this.choice = saved;
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    this.systemDark = mq.matches;
    const onChange = (e: MediaQueryListEvent): void => {
      this.systemDark = e.matches;
    };
    mq.addEventListener('change', onChange);
    labBridge()?.setThemeSource(this.choice);
    return () => mq.removeEventListener('change', onChange);
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    safeSet(STORAGE_KEY, choice);
    labBridge()?.setThemeSource(choice);
  }

  /** Apply the effective theme to the document and Monaco (call from an effect; reruns once Monaco loads). */
  apply(): void {
    document.documentElement.dataset.theme = this.effective;
    if (!monacoLoader.loaded) return;
    const m = monacoLoader.current!;
    m.monaco.editor.setTheme(this.effective === 'dark' ? m.DARK_THEME : m.LIGHT_THEME);
  }
}

function safeGet(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function safeSet(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not persisted; the choice still applies to this window.
  }
}

export const theme = new ThemeStore();
