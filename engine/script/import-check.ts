/**
 * `import { name } from 'iommu-lab'` (or from './helper') of a name the module does not export
 * stops the run at load, placed on the import, as an ES module link would — not at the first use,
 * with "Cannot read properties of undefined". Sucrase turns each named import into `_mod.name` and
 * drops the names used only as types, so the names to check are the ones the transpiled code reads.
 */
import { ScriptSyntaxError, positionOf } from './transpile.ts';

/** `s` as a regular expression matching it literally. */
const literal = (s: string) => s.replace(/[$.*+?^()[\]{}|\\/]/g, '\\$&');

export function missing_import(
  source: string,
  code: string,
  exports: object,
  module = 'iommu-lab',
): ScriptSyntaxError | null {
  const requires = new RegExp(`\\bvar ([\\w$]+) = require\\('${literal(module)}'\\)`, 'g');
  for (const [, local] of code.matchAll(requires)) {
    for (const [, name] of code.matchAll(new RegExp(`\\b${literal(local)}\\.([\\w$]+)`, 'g'))) {
      if (name in exports) continue;
      const at = positionOf(source, import_offset(source, name, module));
      return new ScriptSyntaxError(
        `The requested module '${module}' does not provide an export named '${name}'`,
        at.line,
        at.column,
      );
    }
  }
  return null;
}

/** Where `name` is named in an `import { … } from '<module>'` of `source` (0 if not found). */
function import_offset(source: string, name: string, module: string): number {
  const decl = new RegExp(
    `\\bimport\\s+(?:type\\s+)?(?:[\\w$]+\\s*,\\s*)?\\{([^}]*)\\}\\s*from\\s*(['"])${literal(module)}\\2`,
    'g',
  );
  for (const m of source.matchAll(decl)) {
    const inner = m[1];
    const at = inner.search(new RegExp(`(^|[\\s,{])${literal(name)}(?![\\w$])`));
    if (at >= 0) {
      const lead = /^[\s,{]/.test(inner[at]) ? 1 : 0;
      return m.index! + m[0].indexOf('{') + 1 + at + lead;
    }
  }
  return 0;
}
