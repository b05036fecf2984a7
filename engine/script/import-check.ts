/**
 * `import { name } from 'iommu-lab'` (or from './helper') of a name the module does not export
 * stops the run at load, placed on the import, as an ES module link would — not at the first use,
 * with "Cannot read properties of undefined". Sucrase turns each named import into `_mod.name` and
 * drops the names used only as types, so the names to check are the ones the transpiled code reads.
 */
import { ScriptSyntaxError, positionOf } from './transpile.ts';

/**
 * An import of a module the run does not have, found at load rather than by the `require` that
 * would have thrown (TypeScript elided it): an Error, as that `require`'s would be, placed on the import.
 */
export class ImportError extends ScriptSyntaxError {
  override name = 'Error';
}

/** `s` as a regular expression matching it literally. */
const literal = (s: string) => s.replace(/[$.*+?^()[\]{}|\\/]/g, '\\$&');

export function missing_import(
  source: string,
  code: string,
  exports: object,
  module = 'iommu-lab',
): ScriptSyntaxError | null {
  const requires = new RegExp(`\\bvar ([\\w$]+) = require\\('${literal(module)}'\\)`, 'g');
  const absent = (name: string, offset: number) => {
    const at = positionOf(source, offset);
    return new ScriptSyntaxError(
      `The requested module '${module}' does not provide an export named '${name}'`,
      at.line,
      at.column,
    );
  };
  for (const [, local] of code.matchAll(requires)) {
    for (const [, name] of code.matchAll(new RegExp(`\\b${literal(local)}\\.([\\w$]+)`, 'g'))) {
      if (!(name in exports)) return absent(name, import_offset(source, name, module));
    }
    // A default import reads `<local>2.default` through the interop wrapper.
    const wrapper = interop_wrapper(code, local);
    if (wrapper && !('default' in exports) && new RegExp(`\\b${literal(wrapper[1])}\\.default\\b`).test(code))
      return absent('default', default_import_offset(source, module));
  }
  return null;
}

/** Where the default binding of an `import name from '<module>'` of `source` is (0 if not found). */
function default_import_offset(source: string, module: string): number {
  const m = default_import(source, module);
  return m ? m.index + m[0].indexOf(m[1], 6) : 0;
}

/** The interop wrapper sucrase reads a default import through (`var _m2 = _interopRequireDefault(_m)`). */
function interop_wrapper(code: string, local: string): RegExpExecArray | null {
  return new RegExp(`\\bvar ([\\w$]+) = _interopRequireDefault\\(${literal(local)}\\)`).exec(code);
}

/** `import name from '<module>'` (or `import name, { … } from`) in `source`: the match, name in [1]. */
function default_import(source: string, module: string): RegExpExecArray | null {
  return new RegExp(`\\bimport\\s+([\\w$]+)\\s*(?:,[^;]*?)?from\\s*(['"])${literal(module)}\\2`).exec(source);
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

/**
 * The import bindings of a transpiled file as the script wrote them, for error messages: sucrase
 * reads `lab` from `import { lab } from 'iommu-lab'` as `_iommulab.lab`, and a default import `L`
 * as `_iommulab2.default`, so V8's "_iommulab.lab.add_iommus is not a function" would name
 * variables the script never had. Pairs of (transpiled text, the script's text).
 */
export function import_bindings(source: string, code: string): [RegExp, string][] {
  const out: [RegExp, string][] = [];
  for (const [, local, module] of code.matchAll(/\bvar ([\w$]+) = require\('([^']*)'\)/g)) {
    const wrapper = interop_wrapper(code, local);
    const name = default_import(source, module);
    if (wrapper && name)
      out.push([new RegExp(`(?<![\\w$])${literal(wrapper[1])}\\.default\\b`, 'g'), name[1]]);
    out.push([new RegExp(`(?<![\\w$])${literal(local)}\\.`, 'g'), '']);
  }
  return out;
}
