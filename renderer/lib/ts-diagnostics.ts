/**
 * TypeScript's markers on the scripts, in place of Monaco's own diagnostics (turned off in
 * monaco.ts), for two reasons:
 *
 * - Tabs import each other. Monaco checks a model when it is created or edited, having sent the
 *   worker that one model only, and never checks the others again: when a session opens, main.ts is
 *   checked before helpers.ts exists for the worker, and its "Cannot find module './helpers.ts'"
 *   stayed until main.ts was edited. Here every script model is sent to the worker before any is
 *   checked, and a change to one (added, edited, closed) checks them all again.
 * - Scripts run whatever their types say. A type error (TypeScript's semantic diagnostics) is shown
 *   as a warning; what stops a run stays an error: a syntax error, and the imports the runner
 *   refuses at load (a module that is not there, a name it does not export).
 */
import type {
  Diagnostic,
  LanguageServiceDefaults,
  TypeScriptWorker as TsWorker,
} from 'monaco-editor/languages/features/typescript/register';
import type { monaco } from './monaco.ts';

type Monaco = typeof monaco;

/** The owner of the markers set here (Monaco's own used the language id). */
export const TS_MARKER_OWNER = 'typescript';

/** How long after an edit the scripts are checked again (Monaco's own waited as long). */
const EDIT_DELAY_MS = 500;

/** Which of the worker's passes a diagnostic came from. */
export type DiagnosticPass = 'syntactic' | 'semantic' | 'suggestion';

/** TypeScript's categories: warning = 0, error = 1, suggestion = 2, message = 3. */
const WARNING = 0;
const ERROR = 1;
const SUGGESTION = 2;

/**
 * Semantic errors that still stop a run: the runner refuses these imports at load
 * (runner.ts "Cannot find module", import-check.ts "does not provide an export named").
 */
const STOPS_A_RUN = new Set([
  2307, // Cannot find module './x' or its corresponding type declarations.
  2305, // Module './x' has no exported member 'y'.
  2724, // './x' has no exported member named 'y'. Did you mean 'z'?
]);

export type Severity = 'error' | 'warning' | 'info' | 'hint';

/**
 * How loud a diagnostic is in the editor. Syntax errors, and the grammar errors TypeScript finds
 * while checking (codes below 2000, e.g. `await` outside an async function), are errors; other
 * semantic errors are warnings unless they stop a run.
 */
export function severityOf(pass: DiagnosticPass, d: { category: number; code: number }): Severity {
  if (d.category === SUGGESTION) return 'hint';
  if (d.category === WARNING) return 'warning';
  if (d.category !== ERROR) return 'info';
  if (pass !== 'semantic' || d.code < 2000 || STOPS_A_RUN.has(d.code)) return 'error';
  return 'warning';
}

function messageText(m: Diagnostic['messageText'], indent = 0): string {
  if (typeof m === 'string') return m;
  let text = (indent ? '\n' + '  '.repeat(indent) : '') + m.messageText;
  for (const next of m.next ?? []) text += messageText(next, indent + 1);
  return text;
}

/**
 * Check every script model whenever one is added, edited, renamed or closed, or the compiler's
 * options or libraries change; returns a function that stops. `scriptRoot` is the folder the
 * script models live under (tabs and the scenario library's helpers); only they are checked.
 */
export function watchScriptDiagnostics(
  m: Monaco,
  defaults: LanguageServiceDefaults,
  getWorker: () => Promise<(...uris: monaco.Uri[]) => Promise<TsWorker>>,
  scriptRoot: string,
): () => void {
  const isScript = (model: monaco.editor.ITextModel): boolean =>
    !model.isDisposed() && model.uri.toString().startsWith(scriptRoot);
  const checked = (model: monaco.editor.ITextModel): boolean =>
    isScript(model) && model.getLanguageId() === 'typescript';
  const watches = new Map<monaco.editor.ITextModel, monaco.IDisposable>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const severity: Record<Severity, monaco.MarkerSeverity> = {
    error: m.MarkerSeverity.Error,
    warning: m.MarkerSeverity.Warning,
    info: m.MarkerSeverity.Info,
    hint: m.MarkerSeverity.Hint,
  };

  function schedule(delay: number): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void checkAll(), delay);
  }

  function watch(model: monaco.editor.ITextModel): void {
    if (!isScript(model) || watches.has(model)) return;
    watches.set(
      model,
      model.onDidChangeContent(() => schedule(EDIT_DELAY_MS)),
    );
    // A batch of new models (a session's tabs) is checked once, after the last one.
    schedule(0);
  }

  function unwatch(model: monaco.editor.ITextModel): void {
    watches.get(model)?.dispose();
    if (!watches.delete(model)) return;
    m.editor.setModelMarkers(model, TS_MARKER_OWNER, []);
    // Its importers may now miss it.
    schedule(0);
  }

  async function checkAll(): Promise<void> {
    const models = m.editor.getModels().filter(isScript);
    if (!models.some(checked)) return;
    let worker: TsWorker;
    try {
      // Sends every script to the worker first, so an import of any tab resolves.
      worker = await (await getWorker())(...models.map((model) => model.uri));
    } catch {
      // TypeScript is not set up before an editor first shows a script, or its worker is being
      // restarted (its options changed): both check again when done (the listeners below).
      return;
    }
    await Promise.all(models.filter(checked).map((model) => check(worker, model)));
  }

  async function check(worker: TsWorker, model: monaco.editor.ITextModel): Promise<void> {
    const version = model.getVersionId();
    const file = model.uri.toString();
    let passes: Diagnostic[][];
    try {
      passes = await Promise.all([
        worker.getSyntacticDiagnostics(file),
        worker.getSemanticDiagnostics(file),
        worker.getSuggestionDiagnostics(file),
      ]);
    } catch {
      return;
    }
    // Edited or closed meanwhile: the check its change scheduled will mark it.
    if (stopped || model.isDisposed() || model.getVersionId() !== version) return;
    const names: DiagnosticPass[] = ['syntactic', 'semantic', 'suggestion'];
    const markers = passes.flatMap((list, k) => list.map((d) => toMarker(model, names[k], d)));
    m.editor.setModelMarkers(model, TS_MARKER_OWNER, markers);
  }

  function toMarker(
    model: monaco.editor.ITextModel,
    pass: DiagnosticPass,
    d: Diagnostic,
  ): monaco.editor.IMarkerData {
    const start = model.getPositionAt(d.start ?? 0);
    const end = model.getPositionAt((d.start ?? 0) + (d.length || 1));
    const tags: monaco.MarkerTag[] = [];
    if (d.reportsUnnecessary) tags.push(m.MarkerTag.Unnecessary);
    if (d.reportsDeprecated) tags.push(m.MarkerTag.Deprecated);
    const related: monaco.editor.IRelatedInformation[] = [];
    for (const info of d.relatedInformation ?? []) {
      // Only what points into a script (a declaration in another tab); library files have no model here.
      const at = info.file ? m.editor.getModel(m.Uri.parse(info.file.fileName)) : model;
      if (!at) continue;
      const from = at.getPositionAt(info.start ?? 0);
      const to = at.getPositionAt((info.start ?? 0) + (info.length || 1));
      related.push({
        resource: at.uri,
        message: messageText(info.messageText),
        startLineNumber: from.lineNumber,
        startColumn: from.column,
        endLineNumber: to.lineNumber,
        endColumn: to.column,
      });
    }
    return {
      severity: severity[severityOf(pass, d)],
      message: messageText(d.messageText),
      code: String(d.code),
      startLineNumber: start.lineNumber,
      startColumn: start.column,
      endLineNumber: end.lineNumber,
      endColumn: end.column,
      tags,
      relatedInformation: related,
    };
  }

  const subs = [
    m.editor.onDidCreateModel(watch),
    m.editor.onWillDisposeModel(unwatch),
    // A model that changes language is checked as what it now is (or no longer).
    m.editor.onDidChangeModelLanguage(() => schedule(0)),
    m.languages.onLanguage('typescript', () => schedule(0)),
    defaults.onDidChange(() => schedule(0)),
    defaults.onDidExtraLibsChange(() => schedule(0)),
  ];
  m.editor.getModels().forEach(watch);

  return () => {
    stopped = true;
    clearTimeout(timer);
    subs.forEach((s) => s.dispose());
    for (const [model, sub] of watches) {
      sub.dispose();
      if (!model.isDisposed()) m.editor.setModelMarkers(model, TS_MARKER_OWNER, []);
    }
    watches.clear();
  };
}
