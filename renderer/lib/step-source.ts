/**
 * Which line of the scripts made a step of the last run, so the editor can mark it while the panels
 * show that step (time travel). The lines come from the run's `callResults` (every run from the editor
 * asks for them, lab-controller.ts): each call the script made, in order, with the step it made (a
 * query: the step it came after), its function and where it was made. Looked up by binary search when
 * a step is shown; nothing is built per step.
 *
 * What is not there: the engine records only a run's first calls (engine/script/call-results.ts
 * MAX_CALL_RESULTS), and never the lab's own `lab.*` calls. For a step past the recorded calls, or made
 * by a `lab.*` call, there is no line: the editor marks nothing and the status bar says why. (The
 * engine keeps no line per step, so there is nothing to ask it for those steps.)
 */
import type { CallResult } from '../../engine/host/protocol.ts';

export type StepCall =
  | { kind: 'call'; call: CallResult }
  /**
   * `lab`: a `lab.*` call made the step (not recorded); `past`: the step is past the calls the run
   * recorded; `unplaced`: recorded, but with no line of the scripts' (no user frame on the stack).
   */
  | { kind: 'no-line'; reason: 'lab' | 'past' | 'unplaced' };

/** The index of the first call recorded at `step` or after (steps never go down in the list). */
export function firstCallFrom(calls: readonly CallResult[], step: number): number {
  let lo = 0;
  let hi = calls.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (calls[mid]!.step < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The recorded call that made `step`. `fn` is the function that made it (the trace's `api_call` at
 * that step), when known: queries are recorded with the step they came after, so after a step made by
 * a `lab.*` call the first call recorded at that step is a query's (`iommu_get_domain_for_dev` after
 * `lab.add_device`), not the step's. Without `fn`, the first call recorded at the step.
 */
export function callForStep(calls: readonly CallResult[], step: number, fn?: string): StepCall {
  if (fn?.startsWith('lab.')) return { kind: 'no-line', reason: 'lab' };
  for (let i = firstCallFrom(calls, step); i < calls.length && calls[i]!.step === step; i++) {
    const call = calls[i]!;
    if (fn !== undefined && call.fn !== fn) continue;
    return call.line ? { kind: 'call', call } : { kind: 'no-line', reason: 'unplaced' };
  }
  const last = calls.at(-1);
  return { kind: 'no-line', reason: !last || step > last.step ? 'past' : 'unplaced' };
}

/** What is known of the call that made the step shown (step-marker.svelte.ts). */
export interface StepSourceInfo {
  step: number;
  /** The API function that made it, when the trace said. */
  fn?: string;
  /** The file (a tab's name, or a `lib/…` helper) and line, when recorded. */
  file?: string;
  line?: number;
  /** Why there is no line (see StepCall). */
  noLine?: 'lab' | 'past' | 'unplaced';
}

/**
 * The status bar's words for it: `iommu_map · helpers.ts:4`, and a tooltip saying more. `edited`: a
 * tab the run used changed since; `tab`: whether the file is open in a tab (a `lib/…` helper is not).
 */
export function stepSourceText(
  at: StepSourceInfo,
  edited: boolean,
  tab: 'active' | 'other' | 'none',
): { text: string; title: string } {
  const fn = at.fn ?? `step ${at.step}`;
  const made = `Step ${at.step} was made by ${at.fn ?? 'a call'}`;
  if (edited)
    return {
      text: `${fn} · edited since the run`,
      title: `${made}. The scripts changed since this run, so its lines may no longer match: run again to mark the line of each step.`,
    };
  if (at.line && at.file) {
    const where = `${at.file}:${at.line}`;
    const go =
      tab === 'active'
        ? 'Click to put the cursor there.'
        : tab === 'other'
          ? `The editor marks the line in ${at.file}: click to open it.`
          : `${at.file} is a scenario helper, not open in a tab.`;
    return { text: `${fn} · ${where}`, title: `${made} on line ${at.line} of ${at.file}. ${go}` };
  }
  const why =
    at.noLine === 'lab'
      ? "The lab records where the script's API calls were made, but not its own lab.* calls."
      : at.noLine === 'past'
        ? "The lab records where a run's first calls were made; this step comes after them."
        : 'The lab did not see where in the scripts this call was made.';
  return { text: `${fn} · no line recorded`, title: `${made}. ${why}` };
}
