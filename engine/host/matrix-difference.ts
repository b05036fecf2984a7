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
        : compared === 0
          ? 'no cell made a call: nothing to compare'
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
    const narrowed = differingFields(at);
    parts.forEach((p, i) => (p.cell.firstDifference = cellDifference(p.cell, at[i], narrowed[i])));
    return differ(parts.length, k, made);
  }
}

/** A cell at the differing call: its own call there, or where it had stopped. */
function cellDifference(
  cell: MatrixCell,
  call: CallResult | undefined,
  differing: string | undefined,
): CellDifference {
  if (call)
    return differing === undefined
      ? { text: callText(call), call }
      : { text: callText(call), call, differing };
  const at = cell.steps === 0 ? 'before any step' : `at step ${cell.steps}`;
  return { text: `ended ${at} (${cell.status})` };
}

/** The comparison when results differ at call `k + 1`; `made` are the calls cells made there. */
function differ(cells: number, k: number, made: CallResult[]): MatrixComparison {
  const difference: MatrixDifference = { call: k + 1 };
  let text = 'first differing result: ';
  if (made.length === 0) {
    text +=
      k === 0
        ? 'the cells end differently before any call'
        : `after the same ${k === 1 ? 'call' : `${k} calls`} the cells end differently`;
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

/**
 * What the table and `matrix` show of a cell at the first difference: its call with only the
 * fields of the result that differ between the cells (`line 13 device.dma_read → { …, tlb: 'stale', … }`),
 * or its whole text.
 */
export function differenceText(d: CellDifference): string {
  return d.call && d.differing !== undefined ? callText({ ...d.call, ret: d.differing }) : d.text;
}

/** The tail of a result cut short (call-results.ts: `… #1a2b3c4d`), as a field of its own. */
const TAIL = '\u0000tail';
/** Where fields are left out. */
const ELIDED = '…';
const CUT = /… #[0-9a-f]{8}$/;
const KEY = /^([A-Za-z_$][\w$]*|'(?:[^'\\]|\\.)*'|\[[^\]]*\]): /;

/**
 * The fields of an object as formatValue writes it on one line (`{ ok: true, pa: 'buf1+0x0' }`),
 * each value as written; undefined when the text is not a plain object. A result cut short keeps
 * the fields before the cut, and the rest as one more field named TAIL.
 */
export function fieldsOf(text: string): [string, string][] | undefined {
  if (text === '{}') return [];
  if (!text.startsWith('{ ')) return undefined;
  const entries: string[] = [];
  let depth = 0;
  let start = 2;
  let closed = false;
  for (let i = 2; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") {
      // A quoted string: brackets and commas in it are text.
      for (i++; i < text.length && text[i] !== "'"; i++) if (text[i] === '\\') i++;
    } else if (ch === '{' || ch === '[' || ch === '(') depth++;
    else if (ch === '}' || ch === ']' || ch === ')') {
      if (depth === 0) {
        if (ch !== '}' || i !== text.length - 1 || text[i - 1] !== ' ') return undefined;
        entries.push(text.slice(start, i - 1));
        closed = true;
        break;
      }
      depth--;
    } else if (ch === ',' && depth === 0 && text[i + 1] === ' ') {
      entries.push(text.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  let tail: string | undefined;
  if (!closed) {
    if (!CUT.test(text)) return undefined;
    tail = text.slice(start);
  }
  const fields: [string, string][] = [];
  for (const e of entries) {
    const m = KEY.exec(e);
    if (!m) return undefined;
    fields.push([m[1], e.slice(m[0].length)]);
  }
  if (tail !== undefined) fields.push([TAIL, tail]);
  return fields;
}

/**
 * Each object value cut to the fields where the values differ, in its own order, with `…` for a
 * run of fields left out: `{ …, tlb: 'stale', … }`. A field holding objects is cut the same way
 * among the values that have it (`fault: { reason: 'translation', … }`); a value whose every own
 * field agrees names the differing fields it lacks (`{ …, fault: undefined }`). Undefined where
 * nothing is left out (a value that is no object, or whose every field differs), where the values
 * given are all the same, and where no value was given.
 */
function narrow(values: readonly (string | undefined)[]): (string | undefined)[] {
  const fields = values.map((v) => (v === undefined ? undefined : fieldsOf(v)));
  const none = values.map(() => undefined);
  if (values.some((v, i) => v !== undefined && fields[i] === undefined)) return none;
  const given = values.filter((v) => v !== undefined);
  if (given.every((v) => v === given[0])) return none;
  const maps = fields.map((f) => f && new Map(f));
  const keys = [...new Set(fields.flatMap((f) => f?.map(([k]) => k) ?? []))];
  /** Per differing field, each value's field there cut further (undefined: shown whole). */
  const differing = new Map<string, (string | undefined)[]>();
  for (const k of keys) {
    const at = maps.map((m) => m?.get(k));
    const had = maps.flatMap((m, i) => (m ? [at[i]] : []));
    if (had.every((v) => v === had[0])) continue;
    differing.set(k, narrow(at));
  }
  return fields.map((f, i) => {
    if (!f) return undefined;
    const out: string[] = [];
    let cut = false;
    let shown = 0;
    for (const [k, v] of f) {
      const d = differing.get(k);
      if (!d) {
        cut = true;
        if (out[out.length - 1] !== ELIDED) out.push(ELIDED);
        continue;
      }
      shown++;
      if (d[i] !== undefined) cut = true;
      out.push(k === TAIL ? v : `${k}: ${d[i] ?? v}`);
    }
    if (!shown)
      for (const k of differing.keys()) if (k !== TAIL && !maps[i]!.has(k)) out.push(`${k}: undefined`);
    if (!cut) return undefined;
    // A value cut short ends in its tail (`… #1a2b3c4d`), not in a brace.
    const endsInTail = f[f.length - 1][0] === TAIL && differing.has(TAIL);
    return `{ ${out.join(', ')}${endsInTail ? '' : ' }'}`;
  });
}

/**
 * For the cells' calls at the first difference: each returned result cut to the fields where the
 * results differ, when the cells made the same call and got objects back (differenceText).
 */
function differingFields(at: readonly (CallResult | undefined)[]): (string | undefined)[] {
  const made = at.filter((c): c is CallResult => c !== undefined);
  const fn = (c: CallResult) => SAME_CALL[c.fn] ?? c.fn;
  if (made.length < 2 || made.some((c) => fn(c) !== fn(made[0]))) return at.map(() => undefined);
  return narrow(at.map((c) => c?.ret));
}
