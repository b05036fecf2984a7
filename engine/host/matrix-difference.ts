/**
 * The matrix's "first differing result" (UX.md): the cells' API calls side by side, in the order
 * each made them (engine/script/call-results.ts says which are recorded), up to the first call
 * where they are not all the same; each cell then gets its own result there. Cells differ at a
 * call when they made different calls or got different results. Lines are not compared (one call
 * reached by two branches is the same call), and the era's two ways of allocating a paging domain
 * count as one call: a scenario written for every era uses iommu_paging_domain_alloc on v6.16 and
 * iommu_domain_alloc before, and what the 2023 thread asks is where the *answers* part. A cell that made no call there had ended before it,
 * which is its difference ("ended at step 9 (error)"); cells that all end after the same calls
 * differ only when they ended differently (one passed, one threw). Cells not available in their
 * kernel, or whose run recorded nothing (an engine thread that died), take no part.
 */
import { MAX_CALL_RESULTS } from '../script/call-results.ts';
import type {
  CallResult,
  CellDifference,
  MatrixCell,
  MatrixComparison,
  MatrixDifference,
} from './protocol.ts';

/** `line 14 iommu_map → -ENODEV`, `helper.ts:3 iommu_map threw RangeError`. */
export function callText(c: CallResult): string {
  const where = c.line === undefined ? `step ${c.step}` : c.file ? `${c.file}:${c.line}` : `line ${c.line}`;
  return `${where} ${c.fn} ${c.threw !== undefined ? `threw ${c.threw}` : `→ ${c.ret}`}`;
}

/** A handle numbered by the lab (call-results.ts `resultText`): `domain 2`. */
const NUMBERED = /^(domain|group|gather) (\d+)$/;

/**
 * What is compared of a cell's calls: the function (SAME_CALL folds the allocators) and the result,
 * with numbered handles renumbered
 * in the order the cell's results first name them. Ids count objects in creation order, so a
 * default domain the core made on one driver shifts every later id there; what tells drivers apart
 * is whether a call gives a new object or one met before.
 */
function resultKeys(calls: readonly CallResult[]): string[] {
  const seen = new Map<string, number>();
  return calls.map((c) => {
    const fn = SAME_CALL[c.fn] ?? c.fn;
    if (c.threw !== undefined) return `${fn} threw ${c.threw}`;
    const m = NUMBERED.exec(c.ret ?? '');
    if (!m) return `${fn} → ${c.ret}`;
    let n = seen.get(c.ret!);
    if (n === undefined) seen.set(c.ret!, (n = seen.size));
    return `${fn} → ${m[1]} #${n}`;
  });
}

/** Functions that are one call for the comparison: a paging domain, allocated the era's way. */
const SAME_CALL: Record<string, string> = {
  iommu_domain_alloc: 'paging domain allocation',
  iommu_paging_domain_alloc: 'paging domain allocation',
};

/** The same value in every item, or undefined. */
function common<T>(items: readonly CallResult[], of: (c: CallResult) => T): T | undefined {
  const v = of(items[0]);
  return items.every((c) => of(c) === v) ? v : undefined;
}

interface Part {
  cell: MatrixCell;
  calls: CallResult[];
  keys: string[];
}

/**
 * Compare the cells (each with the `callResults` its run recorded, in the same order) and set each
 * compared cell's `firstDifference`.
 */
export function compareCells(
  cells: readonly MatrixCell[],
  calls: readonly (CallResult[] | undefined)[],
): MatrixComparison {
  const parts: Part[] = [];
  cells.forEach((cell, i) => {
    const c = calls[i];
    if (cell.status !== 'n/a' && c) parts.push({ cell, calls: c, keys: resultKeys(c) });
  });
  // A full record may have been cut short: past it nothing is known.
  const known = Math.min(
    ...parts.map((p) => (p.calls.length >= MAX_CALL_RESULTS ? p.calls.length : Infinity)),
  );

  const agree = (compared: number): MatrixComparison => {
    for (const p of parts) p.cell.firstDifference = null;
    const text =
      parts.length < 2
        ? `${parts.length === 1 ? 'one cell' : 'no cell'} ran: nothing to compare`
        : compared >= known
          ? `all results agree in the first ${compared} calls (the rest were not recorded)`
          : 'all results agree';
    return { cells: parts.length, calls: compared, difference: null, text };
  };
  if (parts.length < 2) return agree(0);

  for (let k = 0; ; k++) {
    if (k >= known) return agree(k);
    const at = parts.map((p) => p.calls[k] as CallResult | undefined);
    const made = at.filter((c): c is CallResult => c !== undefined);
    if (made.length === 0) {
      const status = parts[0].cell.status;
      if (parts.every((p) => p.cell.status === status)) return agree(k);
    } else if (made.length === at.length && parts.every((p) => p.keys[k] === parts[0].keys[k])) continue;
    parts.forEach((p, i) => (p.cell.firstDifference = cellDifference(p.cell, at[i])));
    return differ(parts.length, k, made);
  }
}

/** A cell at the differing call: its own call there, or where it had stopped. */
function cellDifference(cell: MatrixCell, call: CallResult | undefined): CellDifference {
  if (call) return { text: callText(call), call };
  const at = cell.steps === 0 ? 'before any step' : `at step ${cell.steps}`;
  return { text: `ended ${at} (${cell.status})` };
}

/** The comparison when results differ at call `k + 1`; `made` are the calls cells made there. */
function differ(cells: number, k: number, made: CallResult[]): MatrixComparison {
  const difference: MatrixDifference = { call: k + 1 };
  let text = 'first differing result: ';
  if (made.length === 0) {
    text += `after the same ${k} calls the cells end differently`;
  } else {
    const fn = common(made, (c) => c.fn);
    const line = common(made, (c) => c.line);
    const file = common(made, (c) => c.file ?? '');
    const step = common(made, (c) => c.step);
    if (fn !== undefined) difference.fn = fn;
    if (line !== undefined && file !== undefined) {
      if (file) difference.file = file;
      difference.line = line;
    }
    if (step !== undefined) difference.step = step;
    text += fn ?? 'the cells make different calls';
    if (difference.line !== undefined) text += file ? `, ${file}:${line}` : `, line ${line}`;
    if (step !== undefined) text += ` (step ${step})`;
  }
  return { cells, calls: k, difference, text };
}
