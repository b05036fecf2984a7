/**
 * Monaco is most of the bundle (about 4 MB of script), so it loads as its own chunk after the
 * window's frame has painted: the toolbar, panels and status bar show at once, the editor a moment
 * later. Everything that needs Monaco's values goes through here; types come from './monaco.ts'.
 */
type MonacoModule = typeof import('./monaco.ts');

class MonacoLoader {
  /** True once Monaco is loaded and set up; components and effects can depend on it. */
  loaded = $state(false);
  private module: MonacoModule | null = null;
  private promise: Promise<MonacoModule> | null = null;

  load(): Promise<MonacoModule> {
    this.promise ??= import('./monaco.ts').then((m) => {
      m.initMonaco();
      this.module = m;
      this.loaded = true;
      return m;
    });
    return this.promise;
  }

  /** The loaded module, or null before it has loaded. */
  get current(): MonacoModule | null {
    return this.module;
  }
}

export const monacoLoader = new MonacoLoader();
