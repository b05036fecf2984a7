import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CHUNK_ROWS, ChunkedLog, type LogChunk } from './console-log.ts';

const rowsOf = (chunks: LogChunk<number>[]): number[] => chunks.flatMap((c) => [...c.rows]);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

describe('ChunkedLog', () => {
  it('holds every row appended, in order, whatever the batches', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(3 * CHUNK_ROWS), { maxLength: 12 }), (batches) => {
        const log = new ChunkedLog<number>();
        let n = 0;
        for (const size of batches) {
          log.append(range(n, n + size));
          n += size;
        }
        expect(log.length).toBe(n);
        expect(rowsOf(log.lastChunks(Infinity))).toEqual(range(0, n));
        for (const i of [0, n - 1, Math.floor(n / 2)]) expect(log.at(i)).toBe(n ? i : undefined);
        expect(log.at(n)).toBeUndefined();
        expect(log.at(-1)).toBeUndefined();
      }),
    );
  });

  it('gives the last rows asked for in whole chunks, each keyed by its first row', () => {
    const log = new ChunkedLog(range(0, 5 * CHUNK_ROWS + 30));
    const chunks = log.lastChunks(2 * CHUNK_ROWS);
    // 230 rows reach back into the chunk from 300: it comes whole.
    expect(chunks.map((c) => c.start)).toEqual([3 * CHUNK_ROWS, 4 * CHUNK_ROWS, 5 * CHUNK_ROWS]);
    expect(rowsOf(chunks)).toEqual(range(3 * CHUNK_ROWS, 5 * CHUNK_ROWS + 30));
    expect(new ChunkedLog<number>().lastChunks(10)).toEqual([]);
  });

  it('never rebuilds what an append does not touch: full chunks keep their identity', () => {
    // What makes a long run cheap to stream: the panel keys chunks by `start`, and an unchanged
    // object is not drawn again, so a batch costs its own rows, not the whole log's.
    const log = new ChunkedLog<number>();
    log.append(range(0, 2 * CHUNK_ROWS + 5));
    const before = log.lastChunks(Infinity);
    log.append(range(2 * CHUNK_ROWS + 5, 3 * CHUNK_ROWS + 1));
    const after = log.lastChunks(Infinity);
    expect(after[0]).toBe(before[0]);
    expect(after[1]).toBe(before[1]);
    // The chunk that was growing is full now, and a new one started.
    expect(after[2]).not.toBe(before[2]);
    expect(after[2]!.rows).toHaveLength(CHUNK_ROWS);
    expect(after.map((c) => c.start)).toEqual([0, CHUNK_ROWS, 2 * CHUNK_ROWS, 3 * CHUNK_ROWS]);
    // A chunk handed out earlier does not change under its holder.
    expect(before[2]!.rows).toHaveLength(5);
  });
});
