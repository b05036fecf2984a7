/**
 * The editor's TypeScript worker: Monaco's, with one change. The language service takes a file whose
 * version string is unchanged to be unchanged, and Monaco gives it the model's version number, which
 * starts at 1 for every new model. A tab replaced by a new model of the same name (opening a session
 * whose main.ts replaces this one's) would be checked as the old text until its first edit. Each
 * model the worker is sent gets its own generation in the version, so a new model is new text.
 */
import { initialize, TypeScriptWorker } from 'monaco-editor/languages/features/typescript/ts.worker';

class LabTypeScriptWorker extends TypeScriptWorker {
  private readonly generations = new WeakMap<object, number>();
  private nextGeneration = 1;

  override getScriptVersion(fileName: string): string {
    const version = super.getScriptVersion(fileName);
    const model = this._getModel(fileName);
    if (!model) return version;
    let generation = this.generations.get(model);
    if (generation === undefined) this.generations.set(model, (generation = this.nextGeneration++));
    return `${generation}.${version}`;
  }
}

// Importing Monaco's worker installed its own start-up handler; this one replaces it.
self.onmessage = () => {
  initialize((ctx, createData) => new LabTypeScriptWorker(ctx, createData));
};
