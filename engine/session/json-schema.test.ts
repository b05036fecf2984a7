/** The small validator, and the shipped schemas: only keywords it implements, in step with the code. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KERNEL_NAMES, PARAM_NAME_RE, SCRIPT_NAME_RE } from './format.ts';
import { formatPath, jsonEqual, schemaProblems, validate, type JsonSchema } from './json-schema.ts';
import { SCHEMAS } from './migrate.ts';

const shipped = JSON.parse(
  readFileSync(new URL('./iommulab.schema.json', import.meta.url), 'utf8'),
) as JsonSchema;

describe('the shipped schemas', () => {
  it('use only what the validator implements', () => {
    expect(schemaProblems(shipped)).toEqual([]);
    const older = readdirSync(new URL('./schemas/', import.meta.url));
    expect(older.length).toBeGreaterThan(0);
    for (const f of older)
      expect(
        schemaProblems(JSON.parse(readFileSync(new URL(`./schemas/${f}`, import.meta.url), 'utf8'))),
      ).toEqual([]);
  });

  it('name the same kernels, tab names and param names as the code', () => {
    const p = shipped.properties!;
    expect(p.kernel!.enum).toEqual([...KERNEL_NAMES]);
    expect(new RegExp(shipped.$defs!.script!.properties!.name!.pattern!).source).toBe(SCRIPT_NAME_RE.source);
    expect(new RegExp(p.params!.propertyNames!.pattern!).source.replace('A-Za-z0-9_', '\\w')).toBe(
      PARAM_NAME_RE.source,
    );
    expect(SCHEMAS[2]).toEqual(shipped);
  });

  it('is found by schemaProblems when it uses a keyword the validator lacks', () => {
    expect(schemaProblems({ type: 'object', properties: { a: { oneOf: [] } } })).toEqual([
      '#/properties/a: unsupported keyword oneOf',
    ]);
    expect(schemaProblems({ $ref: 'https://example.com/x' })).toEqual(['#: $ref must point into #/$defs']);
  });
});

describe('validate', () => {
  const s: JsonSchema = {
    'x-what': 'a thing',
    type: 'object',
    required: ['list'],
    additionalProperties: false,
    properties: {
      list: { type: 'array', items: { $ref: '#/$defs/item' }, maxItems: 3, uniqueItems: true },
      n: { type: ['integer', 'null'], minimum: 1, maximum: 9 },
      s: { type: 'string', minLength: 2, maxLength: 3 },
      e: { enum: ['a', 1, null] },
    },
    $defs: { item: { 'x-what': 'an item', type: 'object', properties: { k: { const: true } } } },
  };
  it.each<[unknown, string | null]>([
    [{ list: [] }, null],
    [{ list: [{ k: true }], n: null, s: '😀😀', e: 1 }, null],
    [[], 'a thing must be an object (found an empty array)'],
    [{}, 'list is missing'],
    [{ list: [], x: 1 }, 'x is not a field of a thing (fields: list, n, s, e)'],
    [{ list: [{ k: false }] }, 'list[0].k must be true (found false)'],
    [{ list: [{}, {}] }, 'list[1] repeats list[0] (an object)'],
    [{ list: [1, 2, 3, 4] }, 'list holds 4 items; at most 3 are allowed'],
    [{ list: [], n: 0 }, 'n must be at least 1 (found 0)'],
    [{ list: [], n: 2.5 }, 'n must be a whole number or null (found 2.5)'],
    [{ list: [], s: 'abcd' }, 's is too long (4 characters; at most 3)'],
    [{ list: [], s: '😀' }, 's must have at least 2 characters'],
    [{ list: [], e: 'b' }, 'e must be one of "a", 1, null (found "b")'],
  ])('%j', (value, message) => {
    expect(validate(s, value)?.message ?? null).toBe(message);
  });

  it('formats paths as a reader writes them', () => {
    expect(formatPath(['scripts', 1, 'source'])).toBe('scripts[1].source');
    expect(formatPath(['params', 'a b', 'x'])).toBe('params["a b"].x');
    expect(formatPath([0])).toBe('[0]');
  });

  it('compares JSON values deeply', () => {
    expect(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { b: 1 })).toBe(false);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
  });
});
