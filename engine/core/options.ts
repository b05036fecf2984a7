/**
 * Driver options are declared, not parsed by hand (as QEMU's device property tables are): each
 * option has a type, its Linux/QEMU default and a doc line; `parse_options` validates a script's
 * object against the table and names what is accepted when something is not.
 */
import { show_value } from './format.ts';

export type OptionSpec =
  | {
      kind: 'int';
      default: number;
      min?: number;
      max?: number;
      values?: readonly number[];
      /** What false and true stand for, where a script may well write a level as a switch. */
      bools?: readonly [off: number, on: number];
      doc: string;
    }
  | { kind: 'bool'; default: boolean; doc: string }
  | { kind: 'range'; default: readonly [number, number]; doc: string }
  | { kind: 'strings'; default: readonly string[]; values: readonly string[]; doc: string };

export type OptionTable<O extends object> = { readonly [K in keyof O]-?: OptionSpec };

function describe(spec: OptionSpec): string {
  switch (spec.kind) {
    case 'int': {
      const n = spec.values
        ? `one of ${spec.values.join(', ')}`
        : `a non-negative safe integer${rangeText(spec.min, spec.max)}`;
      return spec.bools ? `${n}, or false (${spec.bools[0]}) or true (${spec.bools[1]})` : n;
    }
    case 'bool':
      return 'true or false';
    case 'range':
      return '[start, end]: two integers from 0 to 2^53 − 1 (Number.MAX_SAFE_INTEGER), start ≤ end';
    case 'strings':
      return `an array of ${spec.values.join(', ')}`;
  }
}

function rangeText(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  return '';
}

const isSafeUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function accepts(spec: OptionSpec, v: unknown): boolean {
  switch (spec.kind) {
    case 'int':
      if (typeof v === 'boolean') return spec.bools !== undefined;
      return (
        isSafeUint(v) &&
        (!spec.values || spec.values.includes(v)) &&
        (spec.min === undefined || v >= spec.min) &&
        (spec.max === undefined || v <= spec.max)
      );
    case 'bool':
      return typeof v === 'boolean';
    case 'range':
      return Array.isArray(v) && v.length === 2 && isSafeUint(v[0]) && isSafeUint(v[1]) && v[0] <= v[1];
    case 'strings':
      return Array.isArray(v) && v.every((s) => typeof s === 'string' && spec.values.includes(s));
  }
}

export function parse_options<O extends object>(driver: string, table: OptionTable<O>, input: unknown): O {
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input)))
    throw new TypeError(`${driver} options must be an object`);
  const given = (input ?? {}) as Record<string, unknown>;
  const names = Object.keys(table) as (keyof O & string)[];
  for (const key of Object.keys(given)) {
    if (!names.includes(key as keyof O & string))
      throw new Error(`${driver} has no option '${key}'; it accepts ${names.join(', ')}`);
  }
  const out = {} as Record<string, unknown>;
  for (const name of names) {
    const spec = table[name];
    const v = given[name];
    if (v === undefined) {
      out[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
    } else if (accepts(spec, v)) {
      out[name] = Array.isArray(v)
        ? [...v]
        : spec.kind === 'int' && typeof v === 'boolean'
          ? spec.bools![+v]
          : v;
    } else {
      throw new Error(`${driver} option '${name}' must be ${describe(spec)} (got ${show_value(v)})`);
    }
  }
  return out as O;
}

/** The option table as documentation rows, for the API reference. */
export function option_docs(table: OptionTable<object>): { name: string; default: unknown; doc: string }[] {
  return Object.entries(table as Record<string, OptionSpec>).map(([name, spec]) => ({
    name,
    default: spec.default,
    doc: `${spec.doc} (${describe(spec)})`,
  }));
}
