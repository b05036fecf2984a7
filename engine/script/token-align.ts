/**
 * Column mapping by token alignment. Sucrase keeps every line where it was, but its source map
 * places a rewritten token at the wrong column (in `_iommulab.m1.call(void 0, x)` the `(` of
 * `m1(x)` is mapped onto `x`). Lining up the tokens of each source line with the tokens of the same
 * output line (longest common subsequence of token texts) gives exact columns for every token that
 * survived, which is every name, literal and most punctuation the user wrote.
 */

interface Tok {
  text: string;
  col: number;
}

/** Names, numbers, string pieces and single punctuation characters, with their columns. */
const TOKEN = /[A-Za-z_$][\w$]*|\d[\w.]*|'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|\S/g;

function tokens(line: string): Tok[] {
  const out: Tok[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(line); m; m = TOKEN.exec(line)) out.push({ text: m[0], col: m.index });
  return out;
}

/** Alignment work above this many token pairs on one line falls back to the source map. */
const MAX_CELLS = 2_000_000;

/** For each output token index, the matched source token index or -1. */
function lcs(a: Tok[], b: Tok[]): Int32Array {
  const n = a.length;
  const m = b.length;
  const match = new Int32Array(m).fill(-1);
  if (n === 0 || m === 0) return match;
  // dp[(i)*(m+1)+j] = LCS length of a[i..], b[j..]
  const w = m + 1;
  const dp = new Uint16Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      dp[i * w + j] =
        a[i].text === b[j].text
          ? dp[(i + 1) * w + j + 1] + 1
          : Math.max(dp[(i + 1) * w + j], dp[i * w + j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i].text === b[j].text) {
      match[j] = i;
      i++;
      j++;
    } else if (dp[(i + 1) * w + j] >= dp[i * w + j + 1]) {
      i++;
    } else {
      j++;
    }
  }
  return match;
}

export class TokenAligner {
  private readonly srcLines: string[];
  private readonly outLines: string[];
  private readonly cache = new Map<number, { out: Tok[]; src: Tok[]; match: Int32Array } | null>();

  constructor(source: string, output: string) {
    this.srcLines = source.split('\n');
    this.outLines = output.split('\n');
  }

  private line(l: number) {
    let entry = this.cache.get(l);
    if (entry === undefined) {
      const src = tokens(this.srcLines[l] ?? '');
      const out = tokens(this.outLines[l] ?? '');
      entry =
        src.length * out.length > MAX_CELLS || src.length >= 0xffff
          ? null
          : { out, src, match: lcs(src, out) };
      this.cache.set(l, entry);
    }
    return entry;
  }

  /**
   * 0-based output position → 0-based source column on the same line: inside a matched token, the
   * same offset in the source token; elsewhere, the start of the nearest matched token before it
   * (the expression the inserted text belongs to). Undefined when nothing on the line matched first.
   */
  sourceColumn(line: number, column: number): number | undefined {
    const e = this.line(line);
    if (!e) return undefined;
    let best: number | undefined;
    for (let j = 0; j < e.out.length && e.out[j].col <= column; j++) {
      const i = e.match[j];
      if (i < 0) continue;
      const t = e.out[j];
      best = column < t.col + t.text.length ? e.src[i].col + (column - t.col) : e.src[i].col;
      if (
        column >= t.col + t.text.length &&
        j + 1 < e.out.length &&
        e.match[j + 1] >= 0 &&
        e.out[j + 1].col > column
      ) {
        // Between two matched tokens (whitespace): keep the same distance from the earlier one.
        const gap = column - (t.col + t.text.length);
        const srcEnd = e.src[i].col + t.text.length;
        if (srcEnd + gap < e.src[e.match[j + 1]].col) best = srcEnd + gap;
      }
    }
    return best;
  }
}
