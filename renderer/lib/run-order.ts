/**
 * The order the Console panel lists a run's reports in: the order they happened. Console lines
 * and expectations carry the step they came after and one shared sequence number; a check
 * carries the step of the call that raised it, so it comes before anything the script did once
 * that call had returned.
 */
import type { CheckRecord, ConsoleLine, ExpectationRecord } from '../../engine/host/protocol.ts';

export type RunReport =
  | { kind: 'console'; line: ConsoleLine }
  | { kind: 'expectation'; record: ExpectationRecord }
  | { kind: 'check'; check: CheckRecord };

export function inRunOrder(
  console: readonly ConsoleLine[],
  expectations: readonly ExpectationRecord[],
  checks: readonly CheckRecord[],
): RunReport[] {
  const keyed: { report: RunReport; step: number; rank: number }[] = [
    ...console.map((line) => ({
      report: { kind: 'console' as const, line },
      step: line.step ?? 0,
      rank: 1 + (line.seq ?? 0),
    })),
    ...expectations.map((record) => ({
      report: { kind: 'expectation' as const, record },
      step: record.step ?? 0,
      rank: 1 + (record.seq ?? 0),
    })),
    ...checks.map((check) => ({ report: { kind: 'check' as const, check }, step: check.step, rank: 0 })),
  ];
  // Stable: checks of one step keep the order they were raised in.
  keyed.sort((a, b) => a.step - b.step || a.rank - b.rank);
  return keyed.map((k) => k.report);
}
