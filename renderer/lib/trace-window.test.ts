import { describe, expect, it } from 'vitest';
import type { TraceWindow } from '../../engine/host/protocol.ts';
import { TraceRows } from './trace-window.ts';

/** A log of `n` events answered the way the host answers trace windows. */
function log(n: number) {
  const asked: number[] = [];
  const fetch = async (offset: number, limit: number): Promise<TraceWindow> => {
    asked.push(offset);
    const indices = Array.from({ length: Math.max(0, Math.min(limit, n - offset)) }, (_, k) => offset + k);
    return {
      offset,
      total: n,
      indices,
      events: indices.map((i) => ({ step: i, kind: 'call', name: `e${i}` })),
    };
  };
  return { fetch, asked };
}

describe('TraceRows', () => {
  it('fetches only the pages a view needs, once, and knows the total', async () => {
    const { fetch, asked } = log(1_000_000);
    let changes = 0;
    const rows = new TraceRows(fetch, () => changes++, 100);
    await rows.ensure(950, 1049);
    expect(asked).toEqual([900, 1000]);
    expect(rows.total).toBe(1_000_000);
    expect(rows.row(1049)?.event.name).toBe('e1049');
    expect(rows.row(1100)).toBeUndefined();
    await Promise.all([rows.ensure(950, 1000), rows.ensure(999_990, 1_000_050)]);
    expect(asked).toEqual([900, 1000, 999_900]);
    expect(rows.row(999_999)?.index).toBe(999_999);
    expect(changes).toBe(3);
  });

  it('keeps a bounded number of pages', async () => {
    const { fetch, asked } = log(10_000);
    const rows = new TraceRows(fetch, () => {}, 10, 3);
    for (const p of [0, 1, 2, 3]) await rows.ensure(p * 10, p * 10);
    await rows.ensure(0, 0);
    expect(asked).toEqual([0, 10, 20, 30, 0]);
  });

  it('drops answers that arrive after it was disposed', async () => {
    const { fetch } = log(50);
    let changes = 0;
    const rows = new TraceRows(fetch, () => changes++, 10);
    const pending = rows.ensure(0, 5);
    rows.dispose();
    await pending;
    expect(changes).toBe(0);
    expect(rows.row(0)).toBeUndefined();
  });
});

describe('TraceRows under a dragged scroll bar', () => {
  it('keeps a few pages in flight and fetches the rest when asked again', async () => {
    const { fetch, asked } = log(100_000);
    const rows = new TraceRows(fetch, () => {}, 100, 80, 2);
    const all = rows.ensure(0, 999);
    expect(asked).toEqual([0, 100]);
    await all;
    await rows.ensure(0, 999);
    expect(asked).toEqual([0, 100, 200, 300]);
  });

  it('does not ask again for a page that failed', async () => {
    let calls = 0;
    const rows = new TraceRows(
      async () => {
        calls++;
        throw new Error('no-session: nothing has run yet');
      },
      () => {},
      10,
    );
    await rows.ensure(0, 5);
    await rows.ensure(0, 5);
    expect(calls).toBe(1);
    expect(rows.error).toMatch(/no-session/);
  });
});
