/**
 * What running a script produces, as plain JSON-able data. The host protocol (engine/host/protocol.ts)
 * re-exports these types; clients import them from there.
 */

/** One script file of a run (an editor tab). `name` is how other files import it: `./name`. */
export interface SourceFile {
  name: string;
  source: string;
}

export type RunStatus = 'passed' | 'failed' | 'error';

/** A position in the user's own file (1-based line, 1-based column). */
export interface SourceError {
  message: string;
  /** Error class name: 'SyntaxError', 'TypeError', 'ExpectationError', 'TimeoutError', 'KernelVersionError', … */
  name?: string;
  file?: string;
  line?: number;
  column?: number;
}

export type ConsoleLevel = 'log' | 'info' | 'warn' | 'error' | 'debug';

/** When a console line or an expectation happened, so a view can list them with the checks in order. */
export interface Placed {
  /** Lab steps made so far (a check of step n came before anything placed at n). */
  step?: number;
  /** Its place among the run's console lines and expectations together. */
  seq?: number;
}

export interface ConsoleLine extends Placed {
  level: ConsoleLevel;
  text: string;
  /** Where the call was made in the user's file, when it could be found. */
  file?: string;
  line?: number;
  column?: number;
}

/** One `expect(...)` outcome, linked to its line (the Console panel lists them). */
export interface ExpectationRecord extends Placed {
  passed: boolean;
  /** e.g. 'toBe'; with `.not` it reads 'not.toBe'. */
  matcher: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
}

/**
 * One API call of a run as the matrix compares it: where the script made it, and what it returned
 * (as the Trace panel shows a return: errnos by name, addresses in hex; handles by name) or the
 * error it threw.
 */
export interface CallResult {
  /** The step the call made (1-based, as the trace numbers them); for a query, the step it came after. */
  step: number;
  /** The API function: `iommu_map`, `lab.add_iommu`, `domain.ops.map_pages`. */
  fn: string;
  ret?: string;
  /** The error class the call threw instead of returning: `RangeError`. */
  threw?: string;
  /** The file the call was made in, when it is not the one run (an imported helper). */
  file?: string;
  line?: number;
}

export interface CheckRecord {
  id: string;
  step: number;
  message: string;
}

/** The outcome of running one entry file (same fields as `iommu-lab run --json`, plus more). */
export interface RunResult {
  file: string;
  status: RunStatus;
  expectations: { passed: number; failed: number };
  checks: CheckRecord[];
  error?: SourceError;
  /** API calls made (trace steps). */
  steps: number;
  console: ConsoleLine[];
  /** Every expectation in order, passed and failed. */
  expectationLog: ExpectationRecord[];
  durationMs: number;
  /** True when the script was ended by the time limit. */
  timedOut: boolean;
  /** True when the run was stopped at a step it was asked to stop at (`stopAfterSteps`). */
  stopped?: boolean;
  /** True when the error was a `KernelVersionError` (the API is not in this kernel: 'n/a' in the matrix). */
  unavailable: boolean;
  kernel: string;
  /**
   * The driver models of the IOMMUs the run added, each once, in the order added: a matrix cell
   * says whether its row's driver ran at all. Absent when the lab could not be created.
   */
  drivers?: string[];
  /** The script's API calls and results (call-results.ts: the first MAX_CALL_RESULTS), when asked for. */
  callResults?: CallResult[];
}
