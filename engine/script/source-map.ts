/**
 * Just enough of the source map v3 format to map a generated (line, column) back to the source:
 * sucrase emits one segment per token and keeps line numbers, so a lookup is "last segment on
 * the same line at or before the column", plus the distance into the token.
 */

/** One generated line: sorted generated columns and, for each, the source line and column (0-based). */
interface LineSegments {
  genCols: number[];
  srcLines: number[];
  srcCols: number[];
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/** Decode one segment's base64 VLQ numbers. */
function decodeSegment(seg: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (let i = 0; i < seg.length; i++) {
    const digit = B64_VALUE[seg.charCodeAt(i)];
    if (digit < 0) throw new Error(`bad source map character '${seg[i]}'`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value - 1) / 2 : value / 2);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

export class SourceMapLookup {
  private lines: LineSegments[] = [];

  constructor(mappings: string) {
    let srcLine = 0;
    let srcCol = 0;
    let srcIndex = 0;
    for (const lineText of mappings.split(';')) {
      const line: LineSegments = { genCols: [], srcLines: [], srcCols: [] };
      let genCol = 0;
      if (lineText) {
        for (const seg of lineText.split(',')) {
          if (!seg) continue;
          const f = decodeSegment(seg);
          genCol += f[0];
          if (f.length >= 4) {
            srcIndex += f[1];
            srcLine += f[2];
            srcCol += f[3];
            line.genCols.push(genCol);
            line.srcLines.push(srcLine);
            line.srcCols.push(srcCol);
          }
        }
      }
      this.lines.push(line);
    }
    void srcIndex;
  }

  /**
   * Map a 0-based generated position to a 0-based source position; before the first token of a
   * line, the line's first token is used.
   */
  original(line: number, column: number): { line: number; column: number } {
    const segs = this.lines[line];
    if (!segs || segs.genCols.length === 0) return { line, column };
    const cols = segs.genCols;
    // Binary search: last segment with genCol <= column.
    let lo = 0;
    let hi = cols.length - 1;
    if (column < cols[0]) return { line: segs.srcLines[0], column: segs.srcCols[0] };
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cols[mid] <= column) lo = mid;
      else hi = mid - 1;
    }
    const into = column - cols[lo];
    // A segment covers its token and the text up to the next one. When both sides have the same
    // length the text is the same and the offset carries over; when they differ (a rewritten import
    // reference, stripped type annotations) the segment's own start is the honest answer.
    const next = lo + 1;
    let srcCol = segs.srcCols[lo] + into;
    if (next < cols.length) {
      const sameLine = segs.srcLines[next] === segs.srcLines[lo];
      if (!sameLine || cols[next] - cols[lo] !== segs.srcCols[next] - segs.srcCols[lo])
        srcCol = segs.srcCols[lo];
    }
    return { line: segs.srcLines[lo], column: srcCol };
  }
}
