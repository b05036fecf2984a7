/** Saving: canonical bytes (same session, same file), and save → load gives the same session back. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KERNEL_NAMES, newSession, type Session } from './format.ts';
import { loadSession } from './load.ts';
import { semanticKey, serializeSession } from './save.ts';

export const arbSession: fc.Arbitrary<Session> = fc
  .record({
    names: fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}\.(ts|js)$/), {
      minLength: 1,
      maxLength: 5,
    }),
    sources: fc.array(fc.string({ unit: 'binary', maxLength: 200 }), { minLength: 5, maxLength: 5 }),
    active: fc.nat(4),
    kernel: fc.constantFrom(...KERNEL_NAMES),
    seed: fc.nat({ max: 0xffffffff }),
    params: fc.dictionary(fc.stringMatching(/^[A-Za-z_][\w.-]{0,10}$/), fc.string({ maxLength: 30 }), {
      maxKeys: 4,
    }),
    disabledChecks: fc.uniqueArray(fc.stringMatching(/^[a-z0-9]+(-[a-z0-9]+){0,3}$/), { maxLength: 4 }),
    notes: fc.string({ unit: 'grapheme', maxLength: 100 }),
    layout: fc.option(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
      {
        nil: undefined,
      },
    ),
  })
  .map((r) =>
    newSession(
      r.names.map((name, i) => ({ name, source: r.sources[i]! })),
      {
        activeScript: r.names[r.active % r.names.length],
        kernel: r.kernel,
        seed: r.seed,
        params: r.params,
        disabledChecks: [...r.disabledChecks].sort(),
        notes: r.notes,
        // Through JSON once: JSON has no -0, which the generator makes.
        ...(r.layout ? { layout: JSON.parse(JSON.stringify(r.layout)) as Record<string, unknown> } : {}),
      },
    ),
  );

describe('serializeSession', () => {
  it('writes two-space JSON with a final newline, fields in a fixed order, map keys sorted', () => {
    const s = newSession([{ name: 'main.ts', source: 'a\n' }], {
      params: { zeta: '1', alpha: '2' },
      disabledChecks: ['unaligned-map', 'stale-iotlb-hit'],
      layout: { z: 1, a: { y: 2, b: 3 } },
    });
    const text = serializeSession(s);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')[1]).toBe('  "$schema": "urn:iommu-lab:session:2",');
    expect(Object.keys(JSON.parse(text))).toEqual([
      '$schema',
      'formatVersion',
      'kernel',
      'seed',
      'params',
      'disabledChecks',
      'activeScript',
      'scripts',
      'notes',
      'layout',
    ]);
    expect(Object.keys(JSON.parse(text).params)).toEqual(['alpha', 'zeta']);
    expect(JSON.parse(text).disabledChecks).toEqual(['stale-iotlb-hit', 'unaligned-map']);
    expect(JSON.stringify(JSON.parse(text).layout)).toBe('{"a":{"b":3,"y":2},"z":1}');
  });

  it('round trip: save → load gives the same session, and saving that again the same bytes', () => {
    fc.assert(
      fc.property(arbSession, (s) => {
        const text = serializeSession(s);
        const r = loadSession(text);
        if (!r.ok) throw new Error(r.error.message);
        expect(r.session).toEqual(s);
        expect(serializeSession(r.session)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('semanticKey ignores the layout and the tab in front, and nothing else', () => {
    const s = newSession([
      { name: 'main.ts', source: 'a' },
      { name: 'b.ts', source: '' },
    ]);
    expect(semanticKey({ ...s, layout: { w: 1 } })).toBe(semanticKey(s));
    expect(semanticKey({ ...s, activeScript: 'b.ts' })).toBe(semanticKey(s));
    expect(semanticKey({ ...s, scripts: [...s.scripts].reverse() })).not.toBe(semanticKey(s));
    expect(semanticKey({ ...s, kernel: 'v6.6' })).not.toBe(semanticKey(s));
    expect(semanticKey({ ...s, params: { a: '1' } })).not.toBe(semanticKey(s));
    expect(semanticKey({ ...s, disabledChecks: ['unaligned-map'] })).not.toBe(semanticKey(s));
    expect(semanticKey({ ...s, notes: 'x' })).not.toBe(semanticKey(s));
    expect(semanticKey({ ...s, seed: 1 })).not.toBe(semanticKey(s));
    expect(semanticKey({ ...s, scripts: [{ name: 'main.ts', source: 'b' }, s.scripts[1]!] })).not.toBe(
      semanticKey(s),
    );
  });
});
