/**
 * The editor's mark on the line that made the step the panels show (time travel: a trace row, F10 /
 * Shift+F10, the slider), as debuggers and Ripes mark the current line. The line is looked up when the
 * step changes (step-source.ts: a binary search over the run's recorded calls, and the trace's
 * `api_call` at that step for the function that made it), so a long run costs nothing until one of
 * its steps is shown.
 *
 * The mark goes on the model of the tab whose file made the call, even when another tab is open (the
 * tab is not switched: the status bar names the file, and clicking it goes there). At the end of the
 * run, before and during a run, and once any tab the run used was edited (its lines no longer match
 * the run), nothing is marked.
 */
import { untrack } from 'svelte';
import type { RunResult, TraceWindow } from '../../engine/host/protocol.ts';
import type { monaco } from './monaco.ts';
import { monacoLoader } from './monaco-loader.svelte.ts';
import { queryEngine } from './lab-controller.ts';
import { revealInEditor, revealLineIfShown } from './editor-bridge.ts';
import { run } from './run.svelte.ts';
import { callForStep, type StepSourceInfo } from './step-source.ts';
import { tabs } from './tabs.svelte.ts';

/** The class of the marked line (and the prefix of its gutter parts): app.css draws them. */
export const STEP_LINE_CLASS = 'step-line';

class StepMarker {
  /** The call that made the step shown; null at the end of a run, at step 0, and with no run to show. */
  at = $state.raw<StepSourceInfo | null>(null);
  /** A tab the run used was edited (or renamed, closed, replaced) since it started. */
  edited = $state(false);

  private generation = 0;
  /** Listeners on the run's tabs, each turning `edited` on. */
  private watches: monaco.IDisposable[] = [];
  private painted: { model: monaco.editor.ITextModel; ids: string[] } | null = null;
  /** The step and line last scrolled into view. */
  private revealed = '';

  /** A run starts with the tabs as they are: from here on, an edit to any of them ends the marking. */
  runStarted(): void {
    this.unwatch();
    this.edited = false;
    for (const t of tabs.list) {
      const model = tabs.model(t.id);
      if (!model) continue;
      const changed = (): void => {
        this.edited = true;
        this.unwatch();
      };
      this.watches.push(model.onDidChangeContent(changed), model.onWillDispose(changed));
    }
  }

  /** Follow the step shown and mark its line. Call from a component (it makes effects). */
  follow(): () => void {
    const stop = $effect.root(() => {
      $effect(() => {
        const result = run.result;
        const step = run.currentStep;
        const atEnd = step === run.steps;
        const live = !run.running && run.engine === 'ready';
        untrack(() => {
          const gen = ++this.generation;
          if (!result || step === null || step === 0 || atEnd || !live) this.at = null;
          else void this.lookUp(result, step, gen);
        });
      });
      $effect(() => {
        const at = this.at;
        const edited = this.edited;
        // A rename or a session opened gives the tab a new model: mark that one. Opening the marked
        // tab scrolls to the line.
        void tabs.list;
        void tabs.activeId;
        void monacoLoader.loaded;
        untrack(() => this.paint(edited ? null : at));
      });
    });
    return () => {
      stop();
      this.paint(null);
      this.unwatch();
    };
  }

  /** Open the tab of the marked line and put the cursor there (the status bar's link). */
  show(): void {
    const at = this.at;
    if (!at?.line || !at.file || this.edited) return;
    const tab = tabs.list.find((t) => t.name === at.file);
    if (!tab) return;
    tabs.activeId = tab.id;
    revealInEditor(at.line, 1);
  }

  private async lookUp(result: RunResult, step: number, gen: number): Promise<void> {
    // The function that made the step, from the trace: a query recorded at the same step is not it.
    let fn: string | undefined;
    try {
      const w = await queryEngine<'trace', TraceWindow>({
        what: 'trace',
        offset: 0,
        limit: 1,
        filter: { names: ['api_call'], fromStep: step, toStep: step },
      });
      const name = w.events[0]?.fn;
      if (typeof name === 'string') fn = name;
    } catch {
      // The engine could not say (it was replaced meanwhile): the first call recorded at the step.
    }
    if (gen !== this.generation) return;
    // Runs always ask for the calls; a result without them has no lines to show.
    const found = callForStep(result.callResults ?? [], step, fn);
    this.at =
      found.kind === 'call'
        ? {
            step,
            fn: found.call.fn,
            file: found.call.file ?? result.file,
            line: found.call.line,
          }
        : { step, ...(fn !== undefined ? { fn } : {}), noLine: found.reason };
  }

  private paint(at: StepSourceInfo | null): void {
    const m = monacoLoader.current?.monaco;
    const found = m && at?.line && at.file ? tabs.modelByName(at.file) : undefined;
    // A line past the end: the text is not what ran (it was edited before the listeners were on).
    const model = found && at!.line! <= found.getLineCount() ? found : undefined;
    const old = this.painted;
    this.painted = null;
    if (old && old.model !== model && !old.model.isDisposed()) old.model.deltaDecorations(old.ids, []);
    if (!m || !model || !at?.line) {
      this.revealed = '';
      return;
    }
    const where = `step ${at.step}: ${at.fn ?? 'call'} (${at.file}:${at.line})`;
    const ids = model.deltaDecorations(old?.model === model ? old.ids : [], [
      {
        range: new m.Range(at.line, 1, at.line, 1),
        options: {
          isWholeLine: true,
          className: STEP_LINE_CLASS,
          marginClassName: `${STEP_LINE_CLASS}-margin`,
          lineNumberClassName: `${STEP_LINE_CLASS}-number`,
          linesDecorationsClassName: `${STEP_LINE_CLASS}-arrow`,
          linesDecorationsTooltip: `The panels show the lab after ${where}`,
          overviewRuler: {
            color: { id: 'editorOverviewRuler.infoForeground' },
            position: m.editor.OverviewRulerLane.Full,
          },
          stickiness: m.editor.TrackedRangeStickiness.NeverGrowsWhenTypingAtEdges,
        },
      },
    ]);
    this.painted = { model, ids };
    // Scrolled to once per step shown: now if its tab is open, else when the user opens that tab.
    const key = `${at.step} ${at.file}:${at.line}`;
    if (key !== this.revealed)
      void revealLineIfShown(model, at.line).then((shown) => {
        if (shown) this.revealed = key;
      });
  }

  private unwatch(): void {
    for (const w of this.watches.splice(0)) w.dispose();
  }
}

export const stepMarker = new StepMarker();
