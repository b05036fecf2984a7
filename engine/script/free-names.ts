/**
 * The reads of names a script never declares. The sandbox answers such a read with `undefined`
 * instead of the ReferenceError JavaScript gives, so a forgotten import (`lab.kernel(…)` without
 * `import { lab }`) or a typo (`iommu_mapp(…)`) would fail later and elsewhere, or not at all
 * (`x === IOMMU_RESV_MSI` simply false). The instrumenter routes each such read through the guard,
 * which gives the language's error where the name is read.
 *
 * A name declared anywhere in the file counts as declared everywhere: that is looser than the
 * language's scopes, never stricter, so no correct script is refused.
 */
import type { Node } from 'acorn';

type AnyNode = Node & Record<string, unknown>;

export interface FreeRead {
  name: string;
  start: number;
  end: number;
  /** `{ name }` in an object literal: the key stays, only the value is the read. */
  shorthand: boolean;
}

/**
 * The language's own globals that the sandbox has, read directly (the guard would only hand them
 * back). The ones it leaves out (Atomics, SharedArrayBuffer, WeakRef, FinalizationRegistry, Intl)
 * are not here: their reads go through the guard, which says why they are missing.
 */
const BUILTINS = new Set(
  `globalThis Infinity NaN undefined isFinite isNaN parseFloat parseInt decodeURI
   decodeURIComponent encodeURI encodeURIComponent escape unescape AggregateError Array
   ArrayBuffer BigInt BigInt64Array BigUint64Array Boolean DataView Date Error
   EvalError Float32Array Float64Array Function Int8Array Int16Array Int32Array
   Iterator JSON Map Math Number Object Promise Proxy RangeError ReferenceError Reflect
   RegExp Set String Symbol SyntaxError TypeError Uint8Array
   Uint8ClampedArray Uint16Array Uint32Array URIError WeakMap WeakSet arguments`.split(/\s+/),
);

function isNode(v: unknown): v is AnyNode {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}

function children(node: AnyNode, each: (child: AnyNode, key: string) => void): void {
  for (const key in node) {
    const v = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (isNode(c)) each(c, key);
    } else if (isNode(v)) each(v, key);
  }
}

/** Every name a binding pattern declares (`a`, `{ b: c }`, `[d = dflt]`, `...e`; not `dflt`). */
function bindingNames(pattern: AnyNode | null, into: Set<string>): void {
  if (!pattern) return;
  switch (pattern.type) {
    case 'Identifier':
      into.add(pattern.name as string);
      break;
    case 'AssignmentPattern':
      bindingNames(pattern.left as AnyNode, into);
      break;
    case 'RestElement':
      bindingNames(pattern.argument as AnyNode, into);
      break;
    case 'ArrayPattern':
      for (const e of pattern.elements as (AnyNode | null)[]) bindingNames(e, into);
      break;
    case 'ObjectPattern':
      for (const p of pattern.properties as AnyNode[])
        bindingNames((p.type === 'RestElement' ? p : p.value) as AnyNode, into);
      break;
  }
}

function declaredNames(ast: AnyNode): Set<string> {
  const names = new Set<string>();
  const visit = (node: AnyNode) => {
    switch (node.type) {
      case 'VariableDeclarator':
        bindingNames(node.id as AnyNode, names);
        break;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        if (node.id) names.add((node.id as AnyNode).name as string);
        for (const p of node.params as AnyNode[]) bindingNames(p, names);
        break;
      case 'ClassDeclaration':
      case 'ClassExpression':
        if (node.id) names.add((node.id as AnyNode).name as string);
        break;
      case 'CatchClause':
        if (node.param) bindingNames(node.param as AnyNode, names);
        break;
    }
    children(node, visit);
  };
  visit(ast);
  return names;
}

/** Whether the identifier under `parent[key]` is a read of a variable (not a key, a label or a target). */
function isRead(parent: AnyNode, key: string): boolean {
  switch (parent.type) {
    case 'MemberExpression':
      return key !== 'property' || parent.computed === true;
    case 'Property':
    case 'MethodDefinition':
    case 'PropertyDefinition':
      return key !== 'key' || parent.computed === true;
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return false;
    // Writes to an undeclared name already throw in the sandbox; `typeof x` must not.
    case 'AssignmentExpression':
    case 'ForInStatement':
    case 'ForOfStatement':
      return key !== 'left';
    case 'UpdateExpression':
      return false;
    case 'UnaryExpression':
      return parent.operator !== 'typeof' && parent.operator !== 'delete';
  }
  return true;
}

/** The reads of undeclared names in `ast` other than `known` ones (the module function's parameters). */
export function freeReads(ast: AnyNode, known: readonly string[]): FreeRead[] {
  const declared = declaredNames(ast);
  for (const k of known) declared.add(k);
  const reads: FreeRead[] = [];
  const read = (id: AnyNode, shorthand = false) => {
    const name = id.name as string;
    if (!declared.has(name) && !BUILTINS.has(name))
      reads.push({ name, start: id.start, end: id.end, shorthand });
  };
  const visit = (node: AnyNode): void => {
    if (node.type === 'ObjectPattern' || node.type === 'ArrayPattern') return pattern(node);
    children(node, (c, key) => {
      if (c.type !== 'Identifier') visit(c);
      else if (isRead(node, key))
        read(c, node.type === 'Property' && node.shorthand === true && key === 'value');
    });
  };
  /** A destructuring pattern: its names are declared or written; its defaults and computed keys are read. */
  const pattern = (p: AnyNode | null): void => {
    if (!p) return;
    switch (p.type) {
      case 'AssignmentPattern':
        pattern(p.left as AnyNode);
        return expression(p.right as AnyNode);
      case 'RestElement':
        return pattern(p.argument as AnyNode);
      case 'ArrayPattern':
        return (p.elements as (AnyNode | null)[]).forEach(pattern);
      case 'ObjectPattern':
        for (const prop of p.properties as AnyNode[]) {
          if (prop.type === 'RestElement') pattern(prop);
          else {
            if (prop.computed) expression(prop.key as AnyNode);
            pattern(prop.value as AnyNode);
          }
        }
        return;
      case 'MemberExpression': // `({ a: o.x } = v)` writes o.x, reading o
        return visit(p);
    }
  };
  const expression = (e: AnyNode): void => (e.type === 'Identifier' ? read(e) : visit(e));
  visit(ast);
  return reads;
}

/**
 * The ReferenceError's message for `name`: with the import to add when 'iommu-lab' exports it, and
 * the export meant when it is a near miss (`iommu_mapp`).
 */
export function notDefined(name: string, exported: readonly string[]): string {
  const from = "from 'iommu-lab'";
  if (exported.includes(name))
    return `${name} is not defined: import it ${from} (import { ${name} } ${from})`;
  let best: string | undefined;
  const bestDistance = name.length < 6 ? 1 : 2;
  for (const e of exported) {
    const d = editDistance(name, e, bestDistance);
    if (d <= bestDistance && (best === undefined || d < editDistance(name, best, bestDistance))) best = e;
  }
  return best ? `${name} is not defined (did you mean ${best}?)` : `${name} is not defined`;
}

/** Levenshtein distance, cut off above `max` (returns max + 1). */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return Math.min(prev[b.length], max + 1);
}
