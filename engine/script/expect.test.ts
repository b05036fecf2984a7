import { describe, expect as vexpect, it } from 'vitest';
import {
  createExpect,
  describe as describeValue,
  ExpectationError,
  type ExpectationOutcome,
} from './expect.ts';

function harness() {
  const outcomes: ExpectationOutcome[] = [];
  const expect = createExpect({
    record: (o) => outcomes.push(o),
    isInternalError: (e) => e instanceof SyntaxError,
  });
  /** The failure message of `f`, or undefined when it passed. */
  const fails = (f: () => void): string | undefined => {
    try {
      f();
      return undefined;
    } catch (e) {
      vexpect(e).toBeInstanceOf(ExpectationError);
      return (e as Error).message;
    }
  };
  return { expect, outcomes, fails };
}

describe('matchers', () => {
  const { expect, fails } = harness();

  it('toBe', () => {
    vexpect(fails(() => expect(0).toBe(0))).toBeUndefined();
    vexpect(fails(() => expect(NaN).toBe(NaN))).toBeUndefined();
    vexpect(fails(() => expect(-22).toBe(0))).toBe('expected 0 but got -22 (-EINVAL)');
    vexpect(fails(() => expect(0x100000).toBe(0x200000))).toBe(
      'expected 2097152 (0x200000) but got 1048576 (0x100000)',
    );
    vexpect(fails(() => expect({ a: 1 }).toBe({ a: 1 }))).toMatch(/not the same object: use toEqual/);
    vexpect(fails(() => expect(1).not.toBe(1))).toBe('expected a value other than 1');
    vexpect(fails(() => expect('a').toBe('b'))).toBe('expected "b" but got "a"');
  });

  it('toEqual', () => {
    vexpect(
      fails(() => expect({ a: [1, { b: 2 }], c: undefined }).toEqual({ a: [1, { b: 2 }] })),
    ).toBeUndefined();
    vexpect(fails(() => expect(new Uint8Array([1, 2])).toEqual([1, 2]))).toBeUndefined();
    vexpect(fails(() => expect(new Map([[1, { x: 1 }]])).toEqual(new Map([[1, { x: 1 }]])))).toBeUndefined();
    vexpect(fails(() => expect(new Set([1, 2])).toEqual(new Set([2, 1])))).toBeUndefined();
    vexpect(fails(() => expect({ a: [1, { b: 2 }] }).toEqual({ a: [1, { b: 3 }] }))).toMatch(
      /first difference at a\[1\]\.b: expected 3 but got 2$/,
    );
    vexpect(fails(() => expect([1, 2]).toEqual([1, 2, 3]))).toMatch(/length: expected 3 but got 2/);
    vexpect(fails(() => expect({ a: 1, b: 2 }).toEqual({ a: 1 }))).toMatch(
      /at b: expected undefined but got 2/,
    );
    vexpect(fails(() => expect([1]).not.toEqual([1]))).toBe('expected a value not equal to [ 1 ]');
  });

  it('toMatchObject', () => {
    vexpect(
      fails(() => expect({ ok: true, pa: 0x1000, tlb: 'hit' }).toMatchObject({ ok: true, tlb: 'hit' })),
    ).toBeUndefined();
    vexpect(fails(() => expect([{ a: 1, b: 2 }]).toMatchObject([{ a: 1 }]))).toBeUndefined();
    vexpect(
      fails(() => expect({ ok: false, fault: { reason: 'translation' } }).toMatchObject({ ok: true })),
    ).toMatch(/first difference at ok: expected true but got false/);
  });

  it('comparisons', () => {
    vexpect(fails(() => expect(3).toBeGreaterThan(2))).toBeUndefined();
    vexpect(fails(() => expect(2).toBeGreaterThanOrEqual(2))).toBeUndefined();
    vexpect(fails(() => expect(1).toBeLessThan(2))).toBeUndefined();
    vexpect(fails(() => expect(2).toBeLessThanOrEqual(2))).toBeUndefined();
    vexpect(fails(() => expect(2).toBeGreaterThan(2))).toBe('expected 2 to be greater than 2');
    vexpect(fails(() => expect(3).toBeLessThan(2))).toBe('expected 3 to be less than 2');
    vexpect(fails(() => expect(3).not.toBeGreaterThan(2))).toBe('expected 3 not to be greater than 2');
  });

  // A string is not "not greater than 4": with .not, the old false result turned into a pass
  // (expect(lab.params.n).not.toBeGreaterThan(4) held for n=10, and so did .not.toBeLessThan(4)).
  it.each(['toBeGreaterThan', 'toBeGreaterThanOrEqual', 'toBeLessThan', 'toBeLessThanOrEqual'] as const)(
    '%s refuses an actual that is not a number or bigint, with or without .not',
    (m) => {
      const { expect, outcomes } = harness();
      const hint = `${m}() needs a number or bigint, got "10" (a string: lab.params values are strings, convert with Number())`;
      vexpect(() => expect('10')[m](4)).toThrow(new TypeError(hint));
      vexpect(() => expect('10').not[m](4)).toThrow(new TypeError(hint));
      vexpect(() => expect(undefined).not[m](4)).toThrow(
        new TypeError(`${m}() needs a number or bigint, got undefined`),
      );
      vexpect(() => expect('abc').not[m](4)).toThrow(
        new TypeError(`${m}() needs a number or bigint, got "abc"`),
      );
      vexpect(() => expect(1).not[m]('4' as unknown as number)).toThrow(
        /to compare with, got "4" \(a string: /,
      );
      vexpect(outcomes).toEqual([]);
      vexpect(() => expect(5n).not[m](5n)).not.toThrow(TypeError);
    },
  );

  it('toBe says why two symbols with one description differ', () => {
    vexpect(fails(() => expect(Symbol('a')).toBe(Symbol('a')))).toBe(
      'expected Symbol(a) but got Symbol(a) (two different symbols with the same description: each Symbol() call makes a new one)',
    );
    vexpect(fails(() => expect(Symbol('a')).toBe(Symbol('b')))).toBe('expected Symbol(b) but got Symbol(a)');
  });

  it('toContain says when an equal element is there but not the same object', () => {
    const hint =
      ' (an element with equal contents is there, but not the same object: toContain compares with ===)';
    vexpect(fails(() => expect([{ a: 1 }]).toContain({ a: 1 }))).toBe(
      `expected [ { a: 1 } ] to contain { a: 1 }${hint}`,
    );
    vexpect(fails(() => expect(new Set([[1]])).toContain([1]))).toMatch(/not the same object/);
    vexpect(fails(() => expect([{ a: 1 }]).toContain({ a: 2 }))).toBe(
      'expected [ { a: 1 } ] to contain { a: 2 }',
    );
    const item = { a: 1 };
    vexpect(fails(() => expect([item]).toContain(item))).toBeUndefined();
  });

  it('toContain and toHaveLength', () => {
    vexpect(fails(() => expect([1, 2, 3]).toContain(2))).toBeUndefined();
    vexpect(fails(() => expect('iommu_map').toContain('map'))).toBeUndefined();
    vexpect(fails(() => expect(new Set(['a'])).toContain('a'))).toBeUndefined();
    vexpect(fails(() => expect([1, 2]).toContain(5))).toBe('expected [ 1, 2 ] to contain 5');
    vexpect(fails(() => expect([1, 2]).not.toContain(2))).toBe('expected [ 1, 2 ] not to contain 2');
    vexpect(fails(() => expect([1, 2]).toHaveLength(2))).toBeUndefined();
    vexpect(fails(() => expect('abc').toHaveLength(2))).toBe('expected length 2 but got 3: "abc"');
  });

  it('toThrow', () => {
    vexpect(
      fails(() =>
        expect(() => {
          throw new RangeError('iova must be …');
        }).toThrow(),
      ),
    ).toBeUndefined();
    vexpect(
      fails(() =>
        expect(() => {
          throw new RangeError('iova must be …');
        }).toThrow('iova'),
      ),
    ).toBeUndefined();
    vexpect(
      fails(() =>
        expect(() => {
          throw new RangeError('iova must be …');
        }).toThrow(/^iova/),
      ),
    ).toBeUndefined();
    vexpect(fails(() => expect(() => 1).toThrow())).toBe(
      'expected the function to throw but it returned normally',
    );
    // An async function returns a promise instead of throwing: said so, and its rejection handled.
    const rejects = async () => {
      throw new Error('inner');
    };
    vexpect(fails(() => expect(rejects).toThrow('inner'))).toMatch(
      /^expected the function to throw an error containing "inner" but it returned a promise \(an async function rejects later/,
    );
    vexpect(fails(() => expect(async () => 1).not.toThrow())).toBeUndefined();
    vexpect(
      fails(() =>
        expect(() => {
          throw new Error('size');
        }).toThrow('iova'),
      ),
    ).toBe('expected the function to throw an error containing "iova" but it threw "size"');
    vexpect(
      fails(() =>
        expect(() => {
          throw new Error('x');
        }).not.toThrow(),
      ),
    ).toBe('expected the function not to throw but it threw "x"');
    // An error class, as in Jest: the thrown error must be an instance of it.
    const throwsRange = () => {
      throw new RangeError('iova must be …');
    };
    vexpect(fails(() => expect(throwsRange).toThrow(RangeError))).toBeUndefined();
    vexpect(fails(() => expect(throwsRange).toThrow(Error))).toBeUndefined();
    vexpect(fails(() => expect(throwsRange).toThrow(TypeError))).toBe(
      'expected the function to throw a TypeError but it threw RangeError "iova must be …"',
    );
    vexpect(fails(() => expect(throwsRange).not.toThrow(RangeError))).toBe(
      'expected the function not to throw a RangeError but it threw RangeError "iova must be …"',
    );
    // An error: the same message.
    vexpect(fails(() => expect(throwsRange).toThrow(new Error('iova must be …')))).toBeUndefined();
    vexpect(fails(() => expect(throwsRange).toThrow(new Error('iova')))).toBe(
      'expected the function to throw an error with the message "iova" but it threw "iova must be …"',
    );
    vexpect(() => expect(throwsRange).toThrow(42 as never)).toThrow(TypeError);
    // The runner's own errors (the time limit) pass straight through.
    vexpect(() =>
      expect(() => {
        throw new SyntaxError('internal');
      }).toThrow(),
    ).toThrow(SyntaxError);
  });

  it('null, undefined, strings and classes', () => {
    vexpect(fails(() => expect(null).toBeNull())).toBeUndefined();
    vexpect(fails(() => expect(0).toBeNull())).toBe('expected 0 to be null');
    vexpect(fails(() => expect(null).not.toBeNull())).toBe('expected null not to be null');
    vexpect(fails(() => expect(undefined).toBeUndefined())).toBeUndefined();
    vexpect(fails(() => expect(null).toBeDefined())).toBeUndefined();
    vexpect(fails(() => expect(undefined).toBeDefined())).toBe('expected a value other than undefined');
    vexpect(fails(() => expect('ste-abort').toMatch('abort'))).toBeUndefined();
    vexpect(fails(() => expect('ste-abort').toMatch(/^translation$/))).toBe(
      'expected "ste-abort" to match /^translation$/',
    );
    vexpect(() => expect(1).toMatch('1')).toThrow(TypeError);
    vexpect(fails(() => expect(new RangeError('x')).toBeInstanceOf(Error))).toBeUndefined();
    vexpect(fails(() => expect({}).not.toBeInstanceOf(Error))).toBeUndefined();
  });

  it('toMatchObject wants every key it names, undefined ones too (Jest subset rules)', () => {
    vexpect(fails(() => expect({ a: 1 }).toMatchObject({ a: 1, b: undefined }))).toBe(
      'expected { a: 1 } to match { a: 1, b: undefined }\n  first difference at b: expected undefined but it is missing',
    );
    vexpect(
      fails(() => expect({ a: 1, b: undefined }).toMatchObject({ a: 1, b: undefined })),
    ).toBeUndefined();
    // toEqual still takes an undefined property for an absent one.
    vexpect(fails(() => expect({ a: 1 }).toEqual({ a: 1, b: undefined }))).toBeUndefined();
  });

  it('a matcher the lab lacks is named, with the ones it has', () => {
    const m = expect(1) as unknown as Record<string, () => void>;
    vexpect(() => m.toStrictEqual()).toThrow(/toStrictEqual is not a matcher.*toBe, toEqual/);
    const n = expect(1).not as unknown as Record<string, () => void>;
    vexpect(() => n.toBeOne()).toThrow(TypeError);
    vexpect(fails(() => expect(1).not.toBe(2))).toBeUndefined();
  });

  it('toHaveLength takes a length', () => {
    vexpect(() => expect([1]).toHaveLength('1' as unknown as number)).toThrow(/takes a length.*"1"/);
    vexpect(() => expect([1]).toHaveLength(-1)).toThrow(/takes a length \(an integer ≥ 0\), got -1$/);
  });

  it('truthiness', () => {
    vexpect(fails(() => expect(1).toBeTruthy())).toBeUndefined();
    vexpect(fails(() => expect(null).toBeFalsy())).toBeUndefined();
    vexpect(fails(() => expect(0).toBeTruthy())).toBe('expected 0 to be truthy');
    vexpect(fails(() => expect('x').toBeFalsy())).toBe('expected "x" to be falsy');
  });

  it('misused matchers throw TypeError, not an expectation failure', () => {
    vexpect(() => expect(1).toThrow()).toThrow(TypeError);
    vexpect(() => expect(1).toHaveLength(1)).toThrow(TypeError);
    vexpect(() => expect(1).toContain(1)).toThrow(TypeError);
  });
});

describe('outcomes', () => {
  it('records every pass and failure, with the error', () => {
    const { expect, outcomes, fails } = harness();
    expect(1).toBe(1);
    fails(() => expect(1).not.toBe(1));
    vexpect(outcomes.map((o) => [o.passed, o.matcher])).toEqual([
      [true, 'toBe'],
      [false, 'not.toBe'],
    ]);
    vexpect(outcomes[1].error).toBeInstanceOf(ExpectationError);
  });
});

describe('describe()', () => {
  it('annotates errno values and large integers, nothing else', () => {
    vexpect(describeValue(-12)).toBe('-12 (-ENOMEM)');
    vexpect(describeValue(-3)).toBe('-3');
    vexpect(describeValue(4096)).toBe('4096');
    vexpect(describeValue(0x40000000)).toBe('1073741824 (0x40000000)');
    vexpect(describeValue(1.5)).toBe('1.5');
  });
});
