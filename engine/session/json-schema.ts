/**
 * A small JSON Schema validator for the subset the session schemas use, so loading a session needs
 * no code generation (a schema compiler that builds functions with `new Function` would need
 * 'unsafe-eval', which the page's Content-Security-Policy refuses) and answers with one sentence that
 * names the field: `scripts[1].source must be a string (found 42)`.
 *
 * Keywords: type, properties, required, additionalProperties, propertyNames, items, enum, const,
 * pattern, minLength, maxLength, minimum, maximum, minItems, maxItems, maxProperties, uniqueItems,
 * $ref (to "#/$defs/<name>"), $defs. Annotations: $schema, $id, title, description, $comment,
 * default, examples, and two of ours for the messages: `x-what` (what an object is called: "a
 * script") and `x-expect` (what a pattern wants, in words). A schema using anything else is refused
 * by `schemaProblems`, so the schema can never ask for more than this checks.
 *
 * Validation stops at the first problem: a user fixes one thing at a time, and the first is the
 * one the message can be precise about. String lengths count code points, as JSON Schema does.
 */

export interface JsonSchema {
  $schema?: string;
  $id?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  $comment?: string;
  title?: string;
  description?: string;
  default?: unknown;
  examples?: unknown[];
  'x-what'?: string;
  'x-expect'?: string;
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  maxProperties?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

export type PathSegment = string | number;

export interface SchemaIssue {
  /** `scripts[1].source`; '' for the document itself. */
  path: string;
  message: string;
}

const KEYWORDS = new Set([
  '$schema',
  '$id',
  '$ref',
  '$defs',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'x-what',
  'x-expect',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'maxProperties',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'enum',
  'const',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
]);

/** `scripts[1].source`, `params["a b"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg.length > 40 ? `${seg.slice(0, 40)}…` : seg)}]`;
  }
  return out;
}

/** A short, safe rendering of a value for a message (never the whole of a long string). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty array' : 'an array';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
    case 'number':
    case 'boolean':
      return String(v);
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

const TYPE_NOUN: Record<JsonType, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
};

function hasType(v: unknown, t: JsonType): boolean {
  switch (t) {
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
  }
}

/** Deep equality of JSON values (for enum, const, uniqueItems). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

function codePoints(s: string, atLeast: number): number {
  // Code points never outnumber UTF-16 units: count only when the unit count could be over.
  if (s.length <= atLeast) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

const patterns = new Map<string, RegExp>();
function regex(p: string): RegExp {
  let r = patterns.get(p);
  if (!r) {
    r = new RegExp(p, 'u');
    patterns.set(p, r);
  }
  return r;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

class Fail {
  constructor(readonly issue: SchemaIssue) {}
}

/** The first way `value` breaks `schema`, or null when it conforms. */
export function validate(schema: JsonSchema, value: unknown): SchemaIssue | null {
  try {
    check(schema, schema, value, [], schema['x-what'] ?? 'the document');
    return null;
  } catch (e) {
    if (e instanceof Fail) return e.issue;
    throw e;
  }
}

function resolve(root: JsonSchema, s: JsonSchema): JsonSchema {
  let cur = s;
  for (let hops = 0; cur.$ref !== undefined; hops++) {
    const m = /^#\/\$defs\/([^/]+)$/.exec(cur.$ref);
    const target = m && root.$defs && Object.hasOwn(root.$defs, m[1]!) ? root.$defs[m[1]!] : undefined;
    if (!target || hops > 16) throw new Error(`schema: cannot resolve $ref ${cur.$ref}`);
    cur = target;
  }
  return cur;
}

function check(
  root: JsonSchema,
  schemaIn: JsonSchema,
  v: unknown,
  path: PathSegment[],
  rootName: string,
): void {
  const s = resolve(root, schemaIn);
  const where = path.length ? formatPath(path) : rootName;
  const fail = (message: string, at: PathSegment[] = path): never => {
    throw new Fail({ path: formatPath(at), message });
  };

  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((t) => hasType(v, t))) {
      const want = types.map((t) => TYPE_NOUN[t]).join(' or ');
      fail(`${where} must be ${want} (found ${describeValue(v)})`);
    }
  }
  if (s.const !== undefined && !jsonEqual(v, s.const))
    fail(`${where} must be ${JSON.stringify(s.const)} (found ${describeValue(v)})`);
  if (s.enum !== undefined && !s.enum.some((e) => jsonEqual(v, e)))
    fail(
      `${where} must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')} (found ${describeValue(v)})`,
    );

  if (typeof v === 'string') {
    if (s.maxLength !== undefined) {
      const n = codePoints(v, s.maxLength);
      if (n > s.maxLength) fail(`${where} is too long (${plural(n, 'character')}; at most ${s.maxLength})`);
    }
    if (s.minLength !== undefined && codePoints(v, -1) < s.minLength)
      fail(`${where} must have at least ${plural(s.minLength, 'character')}`);
    if (s.pattern !== undefined && !regex(s.pattern).test(v))
      fail(`${where} must be ${s['x-expect'] ?? `text matching /${s.pattern}/`} (found ${describeValue(v)})`);
  }

  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) fail(`${where} must be at least ${s.minimum} (found ${v})`);
    if (s.maximum !== undefined && v > s.maximum) fail(`${where} must be at most ${s.maximum} (found ${v})`);
  }

  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems)
      fail(`${where} must hold at least ${plural(s.minItems, 'item')} (found ${v.length || 'none'})`);
    if (s.maxItems !== undefined && v.length > s.maxItems)
      fail(`${where} holds ${v.length} items; at most ${s.maxItems} are allowed`);
    if (s.items) for (let i = 0; i < v.length; i++) check(root, s.items, v[i], [...path, i], rootName);
    if (s.uniqueItems)
      for (let i = 1; i < v.length; i++)
        for (let j = 0; j < i; j++)
          if (jsonEqual(v[i], v[j]))
            fail(`${formatPath([...path, i])} repeats ${formatPath([...path, j])} (${describeValue(v[i])})`, [
              ...path,
              i,
            ]);
  }

  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    const what = s['x-what'] ?? (path.length ? `${where}` : rootName);
    for (const r of s.required ?? [])
      if (!Object.hasOwn(obj, r)) fail(`${formatPath([...path, r])} is missing`, [...path, r]);
    if (s.maxProperties !== undefined && keys.length > s.maxProperties)
      fail(`${where} has ${keys.length} fields; at most ${s.maxProperties} are allowed`);
    const props = s.properties ?? {};
    for (const k of keys) {
      const at = [...path, k];
      if (s.propertyNames) {
        const issue = validate({ ...s.propertyNames, $defs: root.$defs }, k);
        if (issue) {
          const want = s.propertyNames['x-expect'] ?? issue.message.replace(/^the document /, '');
          fail(`${where} has a bad name ${describeValue(k)}: a name must be ${want}`, at);
        }
      }
      const sub = Object.hasOwn(props, k) ? props[k] : undefined;
      if (sub) check(root, sub, obj[k], at, rootName);
      else if (s.additionalProperties === false) {
        const known = Object.keys(props);
        fail(`${formatPath(at)} is not a field of ${what} (fields: ${known.join(', ')})`, at);
      } else if (typeof s.additionalProperties === 'object')
        check(root, s.additionalProperties, obj[k], at, rootName);
    }
  }
}

/** Keywords a schema uses that this validator does not implement (a test keeps this empty). */
export function schemaProblems(schema: unknown, at = '#'): string[] {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
    return [`${at} is not a schema object`];
  const out: string[] = [];
  const s = schema as Record<string, unknown>;
  for (const k of Object.keys(s)) if (!KEYWORDS.has(k)) out.push(`${at}: unsupported keyword ${k}`);
  const sub = (v: unknown, p: string) => out.push(...schemaProblems(v, p));
  for (const key of ['properties', '$defs'] as const)
    if (s[key]) for (const [k, v] of Object.entries(s[key] as object)) sub(v, `${at}/${key}/${k}`);
  for (const key of ['items', 'propertyNames'] as const)
    if (s[key] !== undefined) sub(s[key], `${at}/${key}`);
  if (typeof s.additionalProperties === 'object') sub(s.additionalProperties, `${at}/additionalProperties`);
  if (typeof s.$ref === 'string' && !/^#\/\$defs\/[^/]+$/.test(s.$ref))
    out.push(`${at}: $ref must point into #/$defs`);
  return out;
}
