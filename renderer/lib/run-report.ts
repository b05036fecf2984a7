/**
 * The run as a JSON report: what was run and how, the outcome, every expectation, check and console
 * line, and the engine's summary. Plain data, stable key order, so reports diff well.
 */
import { plainErrorMessage, type RunResult, type Summary } from '../../engine/host/protocol.ts';

export interface RunRequestInfo {
  entry: string;
  kernel: string;
  params: Record<string, string>;
  disabledChecks: string[];
}

export interface RunReport {
  format: 'iommu-lab-run-report';
  version: 1;
  createdAt: string;
  file: string;
  kernel: string;
  params: Record<string, string>;
  disabledChecks: string[];
  status: RunResult['status'];
  summary: Summary | null;
  expectations: { passed: number; failed: number; log: RunResult['expectationLog'] };
  checks: RunResult['checks'];
  console: RunResult['console'];
  error: RunResult['error'] | null;
  steps: number;
  durationMs: number;
  timedOut: boolean;
}

export function runReport(
  result: RunResult,
  request: RunRequestInfo | null,
  summary: Summary | null,
  now: Date = new Date(),
): RunReport {
  return {
    format: 'iommu-lab-run-report',
    version: 1,
    createdAt: now.toISOString(),
    file: result.file,
    kernel: result.kernel,
    params: { ...(request?.params ?? {}) },
    disabledChecks: [...(request?.disabledChecks ?? [])],
    status: result.status,
    summary,
    expectations: { ...result.expectations, log: result.expectationLog },
    checks: result.checks,
    console: result.console,
    // The message as `iommu-lab run --json` gives it: the class is `name`, not a prefix of the text.
    error: result.error ? { ...result.error, message: plainErrorMessage(result.error) } : null,
    steps: result.steps,
    durationMs: Math.round(result.durationMs * 100) / 100,
    timedOut: result.timedOut,
  };
}

/** `unmap-hole.ts` → `unmap-hole`, for file names of exports. */
export function stem(file: string): string {
  return file.replace(/\.[^.]+$/, '') || 'run';
}
