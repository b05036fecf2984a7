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

function sucrase(source: string, fileName: string, withMap: boolean) {
  return transform(source, {
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
    return { code: out.code, map: new CombinedMap(source, out.code, fileName) };
  } catch (e) {
    const err = e as { message?: string; pos?: number };
    const message = String(err.message ?? e)
      .replace(/^Error transforming [^:]*: /, '')
      .replace(/\s*\(\d+:\d+\)$/, '');
    const where = typeof err.pos === 'number' ? positionOf(source, err.pos) : { line: 1, column: 1 };
    throw new ScriptSyntaxError(message, where.line, where.column);
  }
}
