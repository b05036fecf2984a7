/**
 * The built-in scenarios (scenarios/*.ts), bundled as text at build time, for the gallery; and the
 * helpers they import (scenarios/lib/*.ts), which every run gets as `lib/<name>` files so a scenario
 * opened from the gallery runs as it does from the command line.
 */
import type { monaco } from './monaco.ts';

const scenarioFiles = import.meta.glob('../../scenarios/*.ts', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const libFiles = import.meta.glob('../../scenarios/lib/*.ts', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

export interface Scenario {
  /** File name, e.g. `unmap-hole.ts`. */
  name: string;
  /** The header comment's first line. */
  title: string;
  /** The rest of the header comment. */
  description: string;
  source: string;
}

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** The leading `/** … *\/` comment of a file: its first line as the title, the rest as the description. */
export function headerOf(source: string): { title: string; description: string } {
  const m = /^\s*\/\*\*([\s\S]*?)\*\//.exec(source);
  if (!m) return { title: '', description: '' };
  const lines = m[1].split('\n').map((l) => l.replace(/^\s*\* ?/, '').trimEnd());
  while (lines.length && !lines[0].trim()) lines.shift();
  const title = (lines.shift() ?? '').trim();
  return { title, description: lines.join('\n').trim() };
}

export const SCENARIOS: readonly Scenario[] = Object.entries(scenarioFiles)
  .map(([path, source]) => ({ name: baseName(path), source, ...headerOf(source) }))
  .sort((a, b) => a.name.localeCompare(b.name));

/** The helper files, named as scenarios import them (`./lib/iova-window.ts` → `lib/iova-window.ts`). */
export const LIBRARY_FILES: readonly { name: string; source: string }[] = Object.entries(libFiles)
  .map(([path, source]) => ({ name: `lib/${baseName(path)}`, source }))
  .sort((a, b) => a.name.localeCompare(b.name));

/**
 * Let the editor's TypeScript resolve `./lib/…` imports: the helpers as (hidden) models beside the
 * tabs. A tab of a helper's name takes its place (tabs.svelte.ts disposes the model there); once no
 * tab has that name any more (closed, renamed, another session opened), the helper is back, or the
 * editor would mark the import as missing although the run gets the helper (lab-controller.ts).
 */
export function registerLibraryModels(m: typeof monaco, scriptRoot: string): monaco.IDisposable {
  const uris = LIBRARY_FILES.map((f) => m.Uri.parse(scriptRoot + f.name));
  const restore = (): void =>
    LIBRARY_FILES.forEach((f, i) => {
      if (!m.editor.getModel(uris[i]!)) m.editor.createModel(f.source, 'typescript', uris[i]);
    });
  restore();
  const names = new Set(uris.map((u) => u.toString()));
  // A model is disposed while it still holds its name, and before what takes the name is made (a
  // session's tabs are all replaced in one go): look once that is done.
  return m.editor.onWillDisposeModel((model) => {
    if (names.has(model.uri.toString())) queueMicrotask(restore);
  });
}
