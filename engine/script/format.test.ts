import { describe, expect, it } from 'vitest';
import { formatArgs, formatValue } from './format.ts';
import { describe as describeValue } from './expect.ts';
import { HandleTable } from './handles.ts';

describe('formatValue', () => {
  it('primitives', () => {
    expect(formatValue(4096)).toBe('4096');
    expect(formatValue(-0)).toBe('-0');
    expect(formatValue("a'b")).toBe("'a\\'b'");
    expect(formatValue(10n)).toBe('10n');
    expect(formatValue(undefined)).toBe('undefined');
    expect(formatValue(null)).toBe('null');
    expect(formatValue(Symbol('s'))).toBe('Symbol(s)');
    expect(formatValue(function iommu_map() {})).toBe('[Function: iommu_map]');
  });

  it('writes an error pointer as Linux code does, not as the object behind it', () => {
    const handles = new HandleTable(() => undefined);
    const enodev = handles.errPtr(-19);
    expect(formatValue(enodev)).toBe('ERR_PTR(-ENODEV)');
    expect(formatValue({ ret: enodev })).toBe('{ ret: ERR_PTR(-ENODEV) }');
    expect(formatArgs(['got', enodev])).toBe('got ERR_PTR(-ENODEV)');
    expect(formatValue(handles.errPtr(-4000))).toBe('ERR_PTR(-4000)');
    expect(describeValue(enodev)).toBe('ERR_PTR(-ENODEV)');
    // A look-alike the script made is no error pointer (IS_ERR says so too): shown as it is.
    expect(formatValue({ __err_ptr: -19 })).toBe('{ __err_ptr: -19 }');
  });

  it('objects and arrays', () => {
    expect(formatValue({ a: 1, 'b-c': [1, 'x'] })).toBe("{ a: 1, 'b-c': [ 1, 'x' ] }");
    expect(formatValue([])).toBe('[]');
    expect(formatValue({})).toBe('{}');
    expect(formatValue({ a: { b: { c: { d: 1 } } } })).toBe('{ a: { b: { c: [Object] } } }');
    const loop: Record<string, unknown> = { x: 1 };
    loop.self = loop;
    expect(formatValue(loop)).toBe('{ x: 1, self: [Circular] }');
    expect(formatValue(new Map([[1, 'a']]))).toBe("Map(1) { 1 => 'a' }");
    expect(formatValue(new Set([1]))).toBe('Set(1) { 1 }');
    expect(formatValue(new RangeError('bad'))).toBe('RangeError: bad');
  });

  it('long output breaks into lines', () => {
    const v = { first_field_name: 0x1000, second_field_name: 0x2000, third_field_name: 'something long' };
    expect(formatValue(v)).toBe(
      "{\n  first_field_name: 4096,\n  second_field_name: 8192,\n  third_field_name: 'something long'\n}",
    );
  });

  it('nested broken lines indent one step per level', () => {
    const v = {
      geometry: { aperture_start: 0, aperture_end: 281474976710655, force_aperture: true },
      name: 'a-fairly-long-name',
    };
    expect(formatValue(v)).toBe(
      "{\n  geometry: {\n    aperture_start: 0,\n    aperture_end: 281474976710655,\n    force_aperture: true\n  },\n  name: 'a-fairly-long-name'\n}",
    );
  });

  it('byte arrays as bytes, other typed arrays as numbers', () => {
    expect(formatValue(new Uint8Array([0, 1, 0xab]))).toBe('Uint8Array(3) <00 01 ab>');
    expect(formatValue(new Uint8Array(70))).toMatch(/^Uint8Array\(70\) <00( 00){63} … 6 more>$/);
    expect(formatValue(new Uint32Array([1, 2]))).toBe('Uint32Array(2) [ 1, 2 ]');
  });

  it('class instances show their name and getters', () => {
    class Domain {
      id = 3;
      get type() {
        return 'DMA';
      }
      get broken(): number {
        throw new Error('x');
      }
    }
    expect(formatValue(new Domain())).toBe("Domain { id: 3, type: 'DMA', broken: [Getter: threw] }");
  });
});

describe('formatArgs', () => {
  it('joins with spaces, strings unquoted at top level', () => {
    expect(formatArgs(['ret', -22, { a: 'x' }])).toBe("ret -22 { a: 'x' }");
    expect(formatArgs([])).toBe('');
  });
  it('substitutes printf-style directives', () => {
    expect(formatArgs(['%s mapped %d bytes (%i%%)', 'dom1', 4096, 99.9])).toBe(
      'dom1 mapped 4096 bytes (99%)',
    );
    expect(formatArgs(['%o', [1]])).toBe('[ 1 ]');
    expect(formatArgs(['%j', { a: 1 }])).toBe('{"a":1}');
    expect(formatArgs(['%d extra', 1, 2])).toBe('1 extra 2');
  });
});
