/**
 * Fuzzing the loader: random text, random JSON, and good files mutated (cut, bytes flipped, lines
 * dropped, fields replaced with random values) must give either a valid session or one clear error —
 * never an exception, never a half-checked session.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type LoadResult } from './format.ts';
import { loadSession } from './load.ts';
import { serializeSession } from './save.ts';
import { arbSession } from './save.test.ts';

const example = readFileSync(new URL('./fixtures/example.iommulab', import.meta.url), 'utf8');
const v1 = readFileSync(new URL('./fixtures/v1-full.iommulab', import.meta.url), 'utf8');

/** What every answer must be: a session that saves and loads back the same, or one line of reason. */
function wellFormed(r: LoadResult): void {
  if (r.ok) {
    const again = loadSession(serializeSession(r.session));
    expect(again.ok).toBe(true);
    if (again.ok) expect(again.session).toEqual(r.session);
    for (const w of r.warnings) expect(w).toMatch(/^\S.{0,400}$/);
  } else {
    expect(r.error.message).toMatch(/^\S[^\n]{4,400}$/);
    if (r.error.path !== undefined) expect(r.error.message).toContain(r.error.path.split(/[.[]/)[0]);
  }
}

function load(text: string): LoadResult {
  let r: LoadResult | undefined;
  expect(() => (r = loadSession(text))).not.toThrow();
  wellFormed(r!);
  return r!;
}

type Mutation =
  | { op: 'cut'; at: number }
  | { op: 'flip'; at: number; ch: string }
  | { op: 'delete'; at: number; len: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'drop-line'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('flip' as const),
    at: fc.nat(),
    ch: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 20 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', 'null', '1e999', '-0', '\n'),
      fc.string(),
    ),
  }),
  fc.record({ op: fc.constant('drop-line' as const), at: fc.nat() }),
);

function mutate(text: string, ms: Mutation[]): string {
  let t = text;
  for (const m of ms) {
    const at = t.length ? m.at % (t.length + 1) : 0;
    if (m.op === 'cut') t = t.slice(0, at);
    else if (m.op === 'flip') t = t.slice(0, at) + m.ch + t.slice(at + 1);
    else if (m.op === 'delete') t = t.slice(0, at) + t.slice(at + m.len);
    else if (m.op === 'insert') t = t.slice(0, at) + m.text + t.slice(at);
    else {
      const lines = t.split('\n');
      lines.splice(m.at % lines.length, 1);
      t = lines.join('\n');
    }
  }
  return t;
}

/** Replace the value at a random place in a parsed document with a random JSON value. */
function replaceAt(doc: unknown, pick: number, value: unknown): unknown {
  const slots: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v))
      v.forEach((x, i) => {
        slots.push({ parent: v, key: i });
        walk(x);
      });
    else if (typeof v === 'object' && v !== null)
      for (const k of Object.keys(v)) {
        slots.push({ parent: v as Record<string, unknown>, key: k });
        walk((v as Record<string, unknown>)[k]);
      }
  };
  walk(doc);
  if (!slots.length) return value;
  const s = slots[pick % slots.length]!;
  (s.parent as Record<string | number, unknown>)[s.key] = value;
  return doc;
}

describe('the loader never crashes', () => {
  it('on random text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (t) => void load(t)),
      { numRuns: 1000 },
    );
  });

  it('on random JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => void load(JSON.stringify(v))),
      { numRuns: 1000 },
    );
  });

  it('on good files with random mutations', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(example, v1),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (base, ms) => {
          load(mutate(base, ms));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('on good files with a field replaced by a random value (or deleted)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(example, v1),
        fc.nat(),
        fc.option(fc.jsonValue({ maxDepth: 3 })),
        (base, pick, value) => {
          const doc = JSON.parse(base) as unknown;
          const r = load(JSON.stringify(replaceAt(doc, pick, value ?? undefined)));
          if (!r.ok)
            expect(r.error.kind).toMatch(/^(invalid|bad-version|future-version|no-version|not-object)$/);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('on generated sessions with their fields in a random order and random extra fields', () => {
    fc.assert(
      fc.property(
        arbSession,
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
        (s, extra) => {
          const doc = { ...extra, ...JSON.parse(serializeSession(s)) } as Record<string, unknown>;
          const keys = Object.keys(doc).reverse();
          const shuffled = Object.fromEntries(keys.map((k) => [k, doc[k]]));
          const r = load(JSON.stringify(shuffled));
          // Extra fields are refused by name; without them the session is the same one.
          if (Object.keys(extra).some((k) => !(k in JSON.parse(serializeSession(s)))))
            expect(r.ok).toBe(false);
          else expect(r.ok && r.session).toEqual(s);
        },
      ),
      { numRuns: 300 },
    );
  });
});
