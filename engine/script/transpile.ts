/**
 * TypeScript → JavaScript with sucrase: types stripped, `import … from 'iommu-lab'` turned into
 * `require('iommu-lab')`. Sucrase keeps every line where it was; columns are mapped back by lining
 * up tokens (token-align.ts), with sucrase's own source map as the fallback.
 */
import { transform } from 'sucrase';
import { SourceMapLookup } from './source-map.ts';
import { TokenAligner } from './token-align.ts';

/** A syntax error in the user's file; `line` and `column` are 1-based. */
export class ScriptSyntaxError extends Error {
  override name = 'SyntaxError';
  /** The file it is in, when known (set by the runner). */
  file?: string;
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

/** 0-based output position → 0-based source position. */
export interface PositionMap {
  original(line: number, column: number): { line: number; column: number };
}

export interface Transpiled {
  code: string;
  map: PositionMap;
  /** Imports of modules that TypeScript's elision dropped from `code` (see elidedImports). */
  elided: ElidedImport[];
}

/** An import the transpiled code no longer has: its module and where it is (1-based). */
export interface ElidedImport {
  spec: string;
  line: number;
  column: number;
}

/**
 * Token alignment first (exact for every token the user wrote), sucrase's map where it has
 * nothing. Both are built on first use: most runs never ask (no error, no console line), and
 * sucrase's map costs more than the transform itself, so it comes from a second transform only
 * when a position falls where alignment has no answer.
 */
class CombinedMap implements PositionMap {
  private aligner: TokenAligner | undefined;
  private fallback: SourceMapLookup | undefined;

  constructor(
    private readonly source: string,
    private readonly code: string,
    private readonly fileName: string,
  ) {}

  original(line: number, column: number) {
    this.aligner ??= new TokenAligner(this.source, this.code);
    const col = this.aligner.sourceColumn(line, column);
    if (col !== undefined) return { line, column: col };
    this.fallback ??= new SourceMapLookup(
      sucrase(this.source, this.fileName, true).sourceMap?.mappings ?? '',
    );
    return this.fallback.original(line, column);
  }
}

function sucrase(source: string, fileName: string, withMap: boolean, keepUnusedImports = false) {
  return transform(source, {
    ...(keepUnusedImports ? { keepUnusedImports } : {}),
    transforms: isTypeScript(fileName) ? ['typescript', 'imports'] : ['imports'],
    filePath: fileName,
    ...(withMap
      ? { sourceMapOptions: { compiledFilename: fileName.replace(/\.[a-z]+$/i, '') + '.js' } }
      : {}),
    // `enum`s and the like compile as TypeScript does; no dev-only JSX helpers.
    production: true,
    // Left as written so the instrumenter can refuse it with a position (scripts load nothing).
    preserveDynamicImport: true,
  });
}

/** 1-based line and column of a 0-based offset. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export function isTypeScript(fileName: string): boolean {
  return /\.(ts|mts|cts)$/i.test(fileName) || !/\.(js|mjs|cjs)$/i.test(fileName);
}

/**
 * A TypeScript namespace (`namespace N {…}`, `module N {…}`) at the start of a line: sucrase does
 * not support them and drops the whole block without a word, so a script would fail later at a
 * use of `N` with a TypeError that says nothing of the cause. `declare` ones carry no code.
 */
const NAMESPACE = /^[ \t]*(?:export[ \t]+)?(?:namespace|module)[ \t]+[A-Za-z_$][\w$.]*[ \t]*\{/m;

export function transpile(source: string, fileName: string): Transpiled {
  const ns = isTypeScript(fileName) ? NAMESPACE.exec(source) : null;
  if (ns) {
    const where = positionOf(source, ns.index + ns[0].search(/\S/));
    throw new ScriptSyntaxError(
      'TypeScript namespaces are not supported in lab scripts: use an object, or a module of your own (./name)',
      where.line,
      where.column,
    );
  }
  try {
    const out = sucrase(source, fileName, false);
    return {
      code: out.code,
      map: new CombinedMap(source, out.code, fileName),
      elided: elidedImports(source, fileName, out.code),
    };
  } catch (e) {
    const err = e as { message?: string; pos?: number };
    const message = String(err.message ?? e)
      .replace(/^Error transforming [^:]*: /, '')
      .replace(/\s*\(\d+:\d+\)$/, '');
    const where = typeof err.pos === 'number' ? positionOf(source, err.pos) : { line: 1, column: 1 };
    throw new ScriptSyntaxError(message, where.line, where.column);
  }
}

/** The modules a transpiled file requires (sucrase writes every import as `require('<spec>')`). */
const REQUIRE = /\brequire\('([^']*)'\)/g;
/** Anything in a source that may name a module (`from 'x'`, `import 'x'`); a cheap first filter. */
const MODULE_NAME = /\b(?:from|import)\s*(['"])([^'"\r\n]+)\1/g;

/**
 * The imports TypeScript's elision removed: an import whose names the file never uses as values
 * (`import { foo } from 'lodash'` with `foo` unused) vanishes from the code, so the run would never
 * ask for the module, and an import the lab refuses in a .js file would pass in a .ts one. A second
 * transform that keeps unused imports (as `verbatimModuleSyntax` does; `import type` still goes)
 * shows them, on the lines they are on. It runs only when the source names a module the code does
 * not require, so almost never: and compiled texts are cached (compile.ts).
 */
function elidedImports(source: string, fileName: string, code: string): ElidedImport[] {
  if (!isTypeScript(fileName)) return [];
  const required = new Set(Array.from(code.matchAll(REQUIRE), (m) => m[1]));
  if (Array.from(source.matchAll(MODULE_NAME)).every((m) => required.has(m[2]))) return [];
  const kept = sucrase(source, fileName, false, true).code.split('\n');
  const lines = source.split('\n');
  const out: ElidedImport[] = [];
  kept.forEach((text, i) => {
    for (const [, spec] of text.matchAll(REQUIRE)) {
      if (required.has(spec)) continue;
      // On the import's own line (sucrase keeps lines): at `import`, else at the module's name.
      const line = lines[i] ?? '';
      const at = line.search(/\bimport\b/);
      const name = line.indexOf(spec);
      out.push({ spec, line: i + 1, column: (at >= 0 ? at : Math.max(0, name - 1)) + 1 });
    }
  });
  return out;
}
