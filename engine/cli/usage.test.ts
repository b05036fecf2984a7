/** The command line's own parsing: every refusal is one line that names the option and the fix. */
import { describe, expect, it } from 'vitest';
import { parse, parseSeed, UsageError } from './usage.ts';

const options = { timeout: { type: 'string' }, json: { type: 'boolean' } } as const;

describe('parse', () => {
  it("a value that starts with '-' is named with the way to write it, not parseArgs' three lines", () => {
    expect(() => parse('run', ['a.ts', '--timeout', '-5'], options)).toThrow(
      new UsageError(
        "run: option '--timeout' is followed by '-5', which starts with '-': write --timeout=-5 if that is its value",
      ),
    );
    expect(parse('run', ['a.ts', '--timeout=-5'], options).values.timeout).toBe('-5');
  });

  it('an unknown option names the command', () => {
    expect(() => parse('matrix', ['--nope'], options)).toThrow(/^matrix: unknown option '--nope'/);
  });
});

describe('parseSeed', () => {
  it('takes what lab.seed takes and refuses the rest by name', () => {
    expect(parseSeed('4294967295')).toBe(0xffffffff);
    expect(parseSeed(undefined)).toBeUndefined();
    for (const bad of ['-1', '1.5', '4294967296', 'x'])
      expect(() => parseSeed(bad)).toThrow(`bad --seed '${bad}' (want a whole number from 0 to 4294967295)`);
  });
});
