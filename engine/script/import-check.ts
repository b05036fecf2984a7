/**
 * `import { name } from 'iommu-lab'` of a name the module does not export stops the run at load,
 * placed on the import, as an ES module link would — not at the first call, with "Cannot read
 * properties of undefined". Sucrase turns each named import into `_iommulab.name` and drops the
 * names used only as types, so the names to check are the ones the transpiled code reads.
 */
import { ScriptSyntaxError, positionOf } from './transpile.ts';

/** `s` as a regular expression matching it literally (identifiers: only `$` is special). */
const literal = (s: string) => s.replace(/\$/g, '\\$');

export function missing_import(source: string, code: string, exports: object): ScriptSyntaxError | null {
  for (const [, local] of code.matchAll(/\bvar ([\w$]+) = require\('iommu-lab'\)/g)) {
    for (const [, name] of code.matchAll(new RegExp(`\\b${literal(local)}\\.([\\w$]+)`, 'g'))) {
      if (name in exports) continue;
      const at = positionOf(source, import_offset(source, name));
      return new ScriptSyntaxError(
        `The requested module 'iommu-lab' does not provide an export named '${name}'`,
        at.line,
        at.column,
      );
    }
  }
  return null;
}

/** Where `name` is named in an `import { … } from 'iommu-lab'` of `source` (0 if not found). */
function import_offset(source: string, name: string): number {
  const decl = /\bimport\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*(['"])iommu-lab\2/g;
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
