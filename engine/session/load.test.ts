/**
 * Loading: every kind of damaged file gets one clear message naming the problem (and the field), a
 * good file loads with its defaults filled, and nothing in a file ever runs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FORMAT_VERSION, MAX_DEPTH, MAX_SESSION_BYTES, newSession } from './format.ts';
import { loadSession, sizeError } from './load.ts';
import { serializeSession } from './save.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function error(text: unknown) {
  const r = loadSession(text);
  if (r.ok) throw new Error(`expected an error, got a session`);
  return r.error;
}

function session(text: string) {
  const r = loadSession(text);
  if (!r.ok) throw new Error(r.error.message);
  return r;
}

const minimal = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ formatVersion: 2, scripts: [{ name: 'main.ts', source: 'x' }], ...extra });

describe('a good file', () => {
  it('loads the example with every field, and saves back to the same bytes', () => {
    const r = session(fixture('example.iommulab'));
    expect(r.formatVersion).toBe(FORMAT_VERSION);
    expect(r.warnings).toEqual([]);
    expect(r.session.scripts.map((s) => s.name)).toEqual(['main.ts', 'helpers.ts']);
    expect(r.session).toMatchObject({
      activeScript: 'main.ts',
      kernel: 'v6.16',
      seed: 7,
      params: { driver: 'arm-smmu-v3' },
      disabledChecks: ['unmap-without-sync'],
      layout: { sidePanel: 'console', sideVisible: true, sideWidth: 0.4, version: 1 },
    });
    expect(r.session.notes).toContain('<b>Notes are plain text</b>');
    expect(serializeSession(r.session)).toBe(fixture('example.iommulab'));
  });

  it('fills defaults for the optional fields', () => {
    expect(session(minimal()).session).toEqual({
      scripts: [{ name: 'main.ts', source: 'x' }],
      activeScript: 'main.ts',
      kernel: 'v6.16',
      seed: 0,
      params: {},
      disabledChecks: [],
      notes: '',
    });
  });

  it('accepts tab names with folders, as scenarios import ./lib/name.ts', () => {
    const r = session(
      minimal({
        scripts: [
          { name: 'main.ts', source: '' },
          { name: 'lib/iova-window.ts', source: '' },
        ],
      }),
    );
    expect(r.session.scripts[1]!.name).toBe('lib/iova-window.ts');
  });

  it('accepts a byte-order mark and CRLF line ends', () => {
    const text = `\ufeff${fixture('example.iommulab').replace(/\n/g, '\r\n')}`;
    expect(session(text).session.kernel).toBe('v6.16');
  });

  it('never runs a script or a note, and a __proto__ key stays plain data', () => {
    const g = globalThis as { __ran?: boolean };
    const r = session(fixture('hostile.iommulab'));
    expect(g.__ran).toBeUndefined();
    expect(Object.getPrototypeOf(r.session.params)).toBe(Object.prototype);
    expect(Object.hasOwn(r.session.params, '__proto__')).toBe(true);
    expect(r.session.params['__proto__']).toBe('polluted');
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(r.session.layout)).toBe(Object.prototype);
    // And saving keeps it as data too.
    const again = session(serializeSession(r.session));
    expect(again.session).toEqual(r.session);
  });
});

describe('damaged files: one message naming the problem and the field', () => {
  const cases: [file: string, kind: string, message: RegExp | string, path?: string][] = [
    ['empty.iommulab', 'empty', 'the file is empty'],
    ['not-json.iommulab', 'not-json', /^not valid JSON at line 1, column 1: 'I' where a value should be/],
    ['truncated.iommulab', 'truncated', /^the file is truncated: it ends inside a string \(line 16\)$/],
    [
      'future-version.iommulab',
      'future-version',
      'made by a newer IOMMU Lab: formatVersion 7, this lab reads up to 2',
      'formatVersion',
    ],
    ['wrong-type.iommulab', 'invalid', 'scripts[1].source must be a string (found 42)', 'scripts[1].source'],
    [
      'unknown-field.iommulab',
      'invalid',
      'scripts[0].sourceMap is not a field of a script (fields: name, source)',
      'scripts[0].sourceMap',
    ],
    [
      'no-version.iommulab',
      'no-version',
      /^formatVersion is missing: this is not an IOMMU Lab session/,
      'formatVersion',
    ],
    [
      'bad-kernel.iommulab',
      'invalid',
      'kernel must be one of "v6.6", "v6.8", "v6.16" (found "v5.15")',
      'kernel',
    ],
    [
      'duplicate-tab.iommulab',
      'invalid',
      'scripts[1].name "main.ts" repeats scripts[0].name; every tab needs its own name',
      'scripts[1].name',
    ],
  ];
  it.each(cases)('%s → %s', (file, kind, message, path) => {
    const e = error(fixture(`damaged/${file}`));
    expect(e.kind).toBe(kind);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
    expect(e.path).toBe(path);
    expect(e.message).not.toContain('\n');
  });

  it('refuses a file over the size limit and names the limit, before parsing it', () => {
    const big = `{"formatVersion": 2, "notes": "${'x'.repeat(MAX_SESSION_BYTES)}"}`;
    expect(error(big)).toEqual({
      kind: 'too-large',
      message: 'the file is more than 16 MiB; a session file may be at most 16 MiB',
    });
    // Sizes are UTF-8 bytes: 6 Mi three-byte characters are 18 MiB.
    const wide = minimal({ notes: '€'.repeat(6 * 1024 * 1024) });
    expect(error(wide).message).toBe('the file is 18 MiB; a session file may be at most 16 MiB');
    // Just under the limit loads.
    const fits = minimal({ notes: 'é'.repeat(7 * 1024 * 1024) });
    expect(loadSession(fits).ok).toBe(true);
    expect(sizeError(MAX_SESSION_BYTES)).toBeNull();
    expect(sizeError(MAX_SESSION_BYTES + 1)?.message).toMatch(/at most 16 MiB$/);
  });

  it('refuses a field given twice in one object, since JSON.parse would drop the first silently', () => {
    const twoTabs = [
      '{"formatVersion": 2,',
      ' "scripts": [{"name": "a.ts", "source": "1"}],',
      ' "kernel": "v6.6",',
      ' "scripts": [{"name": "b.ts", "source": "2"}]}',
    ].join('\n');
    expect(error(twoTabs)).toMatchObject({
      kind: 'invalid',
      message:
        'line 4, column 2: the field "scripts" is given twice in one object (first at line 2); only one can be kept',
    });
    // The same name written with an escape is the same field; inside a nested object, too.
    expect(error('{"formatVersion": 2, "kern\\u0065l": "v6.6", "kernel": "v6.8"}').message).toContain(
      'the field "kernel" is given twice',
    );
    expect(error(minimal({ params: { a: '1' } }).replace('"a":"1"', '"a":"1","a":"2"')).message).toContain(
      'the field "a" is given twice',
    );
    // One name in two objects is no duplicate.
    const r = loadSession(
      minimal({
        scripts: [
          { name: 'a.ts', source: '' },
          { name: 'b.ts', source: '' },
        ],
        params: { name: 'x' },
      }),
    );
    expect(r.ok).toBe(true);
  });

  it('refuses JSON nested past the limit, at the path where it goes too deep', () => {
    let layout: unknown = 1;
    for (let i = 0; i < MAX_DEPTH + 5; i++) layout = { a: layout };
    const e = error(minimal({ layout }));
    expect(e.kind).toBe('too-deep');
    expect(e.message).toMatch(/^layout\.a\.a\.a\.a\.a\.a\.a… nests deeper than 64 levels$/);
    // A hundred thousand brackets do not overflow anything.
    expect(error(`${'['.repeat(100_000)}${']'.repeat(100_000)}`).kind).toBe('too-deep');
    expect(error('['.repeat(100_000)).kind).toBe('truncated');
  });

  it.each([
    ['[]', 'not-object', 'a session file holds a JSON object; this one holds an empty array'],
    ['"session"', 'not-object', 'a session file holds a JSON object; this one holds "session"'],
    ['null', 'not-object', 'a session file holds a JSON object; this one holds null'],
    ['{"formatVersion": "2"}', 'bad-version', 'formatVersion must be a whole number (found "2")'],
    ['{"formatVersion": 1.5}', 'bad-version', 'formatVersion must be a whole number (found 1.5)'],
    [
      '{"formatVersion": 0}',
      'bad-version',
      'formatVersion 0 is not a session format version (this lab reads 1 to 2)',
    ],
    ['{"formatVersion": 2}', 'invalid', 'scripts is missing'],
    ['{"formatVersion": 2, "scripts": []}', 'invalid', 'scripts must hold at least 1 item (found none)'],
    ['{"formatVersion": 2, "scripts": {}}', 'invalid', 'scripts must be an array (found an object)'],
    ['{"formatVersion": 2, "scripts": [{"source": ""}]}', 'invalid', 'scripts[0].name is missing'],
    [
      '{"formatVersion": 2, "scripts": ["main.ts"]}',
      'invalid',
      'scripts[0] must be an object (found "main.ts")',
    ],
    [
      '{"formatVersion": 2, "scripts": [{"name": "a b.ts", "source": ""}]}',
      'invalid',
      'scripts[0].name must be a file name such as main.ts or lib/helpers.ts (letters, digits, _ . -; ending in .ts or .js) (found "a b.ts")',
    ],
    [
      '{"formatVersion": 2, "scripts": [{"name": "<img>.ts", "source": ""}]}',
      'invalid',
      /^scripts\[0\]\.name must be a file name/,
    ],
    [
      minimal({ extra: 1 }),
      'invalid',
      /^extra is not a field of a session \(fields: \$schema, formatVersion, scripts,/,
    ],
    [
      '{"formatVersion": 2, "scripts": [{"name": "../etc/passwd.ts", "source": ""}]}',
      'invalid',
      /^scripts\[0\]\.name must be a file name/,
    ],
    [
      '{"formatVersion": 2, "scripts": [{"name": "/abs.ts", "source": ""}]}',
      'invalid',
      /^scripts\[0\]\.name must/,
    ],
    ['{"formatVersion": 2, "layout": {"w": 1e999}}', 'invalid', 'layout.w holds a number too large for JSON'],
    ['{"formatVersion": -1e400}', 'invalid', 'formatVersion holds a number too large for JSON'],
    [minimal({ seed: -1 }), 'invalid', 'seed must be at least 0 (found -1)'],
    [minimal({ seed: 2 ** 32 }), 'invalid', 'seed must be at most 4294967295 (found 4294967296)'],
    [minimal({ seed: 1.5 }), 'invalid', 'seed must be a whole number (found 1.5)'],
    [minimal({ params: { driver: 3 } }), 'invalid', 'params.driver must be a string (found 3)'],
    [minimal({ params: [] }), 'invalid', 'params must be an object (found an empty array)'],
    [
      minimal({ params: { 'a b': 'x' } }),
      'invalid',
      'params has a bad name "a b": a name must be a word (letters, digits, _ . -, not starting with a digit)',
    ],
    [
      minimal({ disabledChecks: ['Stale IOTLB'] }),
      'invalid',
      'disabledChecks[0] must be a check id in kebab-case such as stale-iotlb-hit (found "Stale IOTLB")',
    ],
    [minimal({ notes: ['a'] }), 'invalid', 'notes must be a string (found an array)'],
    [
      minimal({ activeScript: 'other.ts' }),
      'invalid',
      'activeScript "other.ts" is not one of the scripts (main.ts)',
    ],
    [minimal({ formatVersion: 2, $schema: 5 }), 'invalid', '$schema must be a string (found 5)'],
    [
      '{"formatVersion": 2, "scripts": [1,]}',
      'not-json',
      /^not valid JSON at line 1, column 36: '\]' where a value should be/,
    ],
    [
      '{"formatVersion": 2,}',
      'not-json',
      /column 21: '\}' where a field name in double quotes should be \(a comma before a closing brace/,
    ],
    ["{'formatVersion': 2}", 'not-json', /column 2: ''' where a field name in double quotes should be/],
    ['{"a": "line\nbreak"}', 'not-json', /line 1, column 12: a line break inside a string/],
    ['{"a": 1} {"b": 2}', 'not-json', /column 10: '\{' after the end of the JSON value/],
    [
      '{"formatVersion": 2, "scripts": [',
      'truncated',
      'the file is truncated: it ends where a value should follow (line 1)',
    ],
    [
      '{"formatVersion": 2',
      'truncated',
      "the file is truncated: it ends where ',' or '}' should follow (line 1)",
    ],
    ['{"formatVersion": tr', 'truncated', 'the file is truncated: it ends inside true (line 1)'],
    ['{"formatVersion": -', 'truncated', 'the file is truncated: it ends inside a number (line 1)'],
    ['   \n\t ', 'empty', 'the file is empty'],
  ])('%s', (text, kind, message) => {
    const e = error(text);
    expect(e.kind).toBe(kind);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
  });

  it('is not fooled by something that is not text', () => {
    expect(error(undefined).message).toBe('a session file is text');
    expect(error(new Uint8Array(3)).kind).toBe('not-json');
  });

  it('every cut of a good file is reported as truncated, never as a crash or a session', () => {
    const text = fixture('example.iommulab');
    for (let n = 1; n < text.trimEnd().length; n++) {
      const e = error(text.slice(0, n));
      expect(e.kind, `cut at ${n}`).toBe(text.slice(0, n).trim() === '' ? 'empty' : 'truncated');
    }
  });
});

describe('warnings that do not stop the load', () => {
  it('drops a layout that is not an object and keeps the rest', () => {
    for (const layout of [3, 'wide', [1, 2], null, true]) {
      const r = session(minimal({ layout }));
      expect(r.session.layout).toBeUndefined();
      expect(r.warnings).toEqual([
        expect.stringMatching(/^layout is .*, not an object; the default layout is used$/),
      ]);
    }
  });

  it('keeps an unknown check id switched off, and says this lab does not have it', () => {
    const r = session(minimal({ disabledChecks: ['stale-iotlb-hit', 'future-check'] }));
    expect(r.session.disabledChecks).toEqual(['stale-iotlb-hit', 'future-check']);
    expect(r.warnings).toEqual([
      expect.stringMatching(/^disabledChecks\[1\]: this lab has no check "future-check"/),
    ]);
  });

  it('a session built in memory saves and loads back equal', () => {
    const s = newSession([{ name: 'a.ts', source: 'let x = 1;\n' }], { kernel: 'v6.6', seed: 3, notes: 'n' });
    expect(session(serializeSession(s)).session).toEqual(s);
  });
});
