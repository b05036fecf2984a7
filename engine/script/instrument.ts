/**
 * Instrument transpiled script code so a runaway script can be stopped without killing the engine:
 * a call to the guard goes at the top of every loop body, function body, catch and finally block
 * (brace-less bodies get braces; arrow expression bodies become `(guard(), expr)`). All inserted
 * text stays on its line, so line numbers do not move; the edits are kept so reported columns can
 * be corrected. The value of every `throw` goes through the guard's `thrown`, which notes where it
 * was thrown, and every read of a name the script never declares through its `free` (free-names.ts).
 *
 * It also defuses text that the SES sandbox refuses without parsing (an `import(` or an HTML-like
 * comment inside a comment or a string literal), so an innocent comment does not reject the script.
 */
import { Parser, type Comment, type Node, type Token, tokTypes } from 'acorn';
import { freeReads } from './free-names.ts';

/** The guard's name inside scripts; scripts may not use it themselves. */
export const GUARD = '__lab_guard';
const CALL = `${GUARD}();`;

interface Edit {
  /** Offset in the input where `del` characters are replaced by `text`. */
  pos: number;
  del: number;
  text: string;
  /** Ordering among edits at the same offset: closings first (inner before outer), then openings (outer before inner). */
  closing: boolean;
  seq: number;
}

/** Refused source: `offset` is in the transpiled code. */
export class InstrumentError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface Instrumented {
  code: string;
  /** Map a 0-based (line, column) of the instrumented code to the 0-based column of the input (lines are equal). */
  inputColumn(line: number, column: number): number;
}

type AnyNode = Node & Record<string, unknown>;

function isNode(v: unknown): v is AnyNode {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}

const LOOPS = new Set([
  'WhileStatement',
  'DoWhileStatement',
  'ForStatement',
  'ForInStatement',
  'ForOfStatement',
]);
const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

// The patterns SES rejects (ses/src/transforms.js), written so this file does not contain them.
const HTML_COMMENT = new RegExp(`(?:${'<'}!--|--${'>'})`, 'g');
const IMPORT_EXPR = /(^|[^.]|\.\.\.)\bimport(\s*(?:\(|\/[/*]))/g;

/**
 * `known`: names the code may read without declaring them (the module function's parameters).
 * Without it, reads of undeclared names are left as they are.
 */
export function instrument(code: string, known?: readonly string[]): Instrumented {
  const comments: Comment[] = [];
  const literals: Token[] = [];
  let ast: AnyNode;
  try {
    ast = Parser.parse(code, {
      ecmaVersion: 'latest',
      sourceType: 'script',
      allowReturnOutsideFunction: true,
      onComment: comments,
      // Literal tokens matter only where SES's patterns occur (rare): without them, the parser
      // makes no token objects at all.
      onToken: hasSesPattern(code)
        ? (t: Token) => {
            if (t.type === tokTypes.string || t.type === tokTypes.template || t.type === tokTypes.regexp)
              literals.push(t);
          }
        : undefined,
    }) as unknown as AnyNode;
  } catch (e) {
    const err = e as { message?: string; pos?: number };
    const pos = err.pos ?? 0;
    // `await` outside a function parses as a name followed by an unexpected token.
    const awaitAt = /\bawait\s*$/.exec(code.slice(0, pos));
    if (awaitAt)
      throw new InstrumentError(
        'await is not available at the top level: a lab script runs from top to bottom in one go (code after an await inside an async function runs only after the run has ended, and is reported as an error)',
        awaitAt.index,
      );
    throw new InstrumentError(String(err.message ?? e).replace(/\s*\(\d+:\d+\)$/, ''), pos);
  }

  const edits: Edit[] = [];
  let seq = 0;
  const open = (pos: number, text: string) => edits.push({ pos, del: 0, text, closing: false, seq: seq++ });
  const close = (pos: number, text: string) => edits.push({ pos, del: 0, text, closing: true, seq: seq++ });

  /** Guard a statement body: inside its braces, or wrapped in new ones. */
  const guardBody = (body: AnyNode) => {
    if (body.type === 'BlockStatement') {
      open(body.start + 1, CALL);
    } else {
      open(body.start, `{${CALL}`);
      close(body.end, '}');
    }
  };

  const visit = (node: AnyNode) => {
    if (node.type === 'Identifier' && node.name === GUARD)
      throw new InstrumentError(`'${GUARD}' is reserved by the lab`, node.start);
    if (node.type === 'ImportExpression')
      throw new InstrumentError('dynamic import() is not available in lab scripts', node.start);
    if (node.type === 'MetaProperty')
      throw new InstrumentError('import.meta is not available in lab scripts', node.start);
    // The parser knows explicit resource management; Node 20's engine does not, so the command
    // line would fail without a position where a browser runs it: refused alike everywhere.
    if (node.type === 'VariableDeclaration' && String(node.kind).endsWith('using'))
      throw new InstrumentError(
        `'${String(node.kind)}' declarations are not available in lab scripts: use const and a try/finally`,
        node.start,
      );
    if (LOOPS.has(node.type)) guardBody(node.body as AnyNode);
    // A handler is where a script would go on after its run was stopped (a failed expectation, the
    // time limit): the guard there throws again.
    if (node.type === 'CatchClause') guardBody(node.body as AnyNode);
    if (node.type === 'TryStatement' && node.finalizer) guardBody(node.finalizer as AnyNode);
    if (node.type === 'ThrowStatement') {
      // Where a value was thrown, for values without a stack of their own (`throw 'no domain'`).
      const arg = node.argument as AnyNode;
      open(arg.start, `${GUARD}.thrown(`);
      close(arg.end, ')');
    }
    if (FUNCTIONS.has(node.type)) {
      const body = node.body as AnyNode;
      if (body.type === 'BlockStatement') {
        // After the directive prologue, so a function's own "use strict" keeps its meaning.
        const stmts = body.body as AnyNode[];
        let i = 0;
        while (i < stmts.length && typeof stmts[i].directive === 'string') i++;
        open(i === 0 ? body.start + 1 : stmts[i - 1].end, CALL);
      } else {
        open(body.start, `(${CALL.slice(0, -1)}, `);
        close(body.end, ')');
      }
    }
    for (const key in node) {
      if (key === 'loc' || key === 'range') continue;
      const v = node[key];
      if (Array.isArray(v)) {
        for (const c of v) if (isNode(c)) visit(c);
      } else if (isNode(v)) {
        visit(v);
      }
    }
  };
  visit(ast);
  if (known)
    for (const r of freeReads(ast, known)) {
      const read = `(${GUARD}.free(${JSON.stringify(r.name)}))`;
      edits.push({
        pos: r.start,
        del: r.end - r.start,
        text: r.shorthand ? `${r.name}: ${read}` : read,
        closing: false,
        seq: seq++,
      });
    }

  defuseSesPatterns(code, comments, literals, edits, () => seq++);

  edits.sort((a, b) => {
    if (a.pos !== b.pos) return a.pos - b.pos;
    if (a.closing !== b.closing) return a.closing ? -1 : 1;
    return a.closing ? b.seq - a.seq : a.seq - b.seq;
  });

  // Apply, recording per line where text went in so columns can be mapped back.
  const parts: string[] = [];
  const lineEdits = new Map<number, { col: number; del: number; ins: number }[]>();
  let last = 0;
  let line = 0;
  let lineStart = 0;
  for (const e of edits) {
    for (let i = last; i < e.pos; i++) {
      if (code.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    parts.push(code.slice(last, e.pos), e.text);
    last = e.pos + e.del;
    if (e.del !== e.text.length) {
      let list = lineEdits.get(line);
      if (!list) lineEdits.set(line, (list = []));
      list.push({ col: e.pos - lineStart, del: e.del, ins: e.text.length });
    }
  }
  parts.push(code.slice(last));
  const out = parts.join('');

  const inputColumn = (ln: number, column: number): number => {
    const list = lineEdits.get(ln);
    if (!list) return column;
    let shift = 0;
    for (const e of list) {
      const start = e.col + shift;
      if (column < start) break;
      if (column < start + e.ins) return e.col;
      shift += e.ins - e.del;
    }
    return column - shift;
  };

  // Anything SES would still refuse is reported here, at its place, rather than as an opaque sandbox error.
  for (const re of [HTML_COMMENT, IMPORT_EXPR]) {
    re.lastIndex = 0;
    const m = re.exec(out);
    if (m) {
      const at = m.index + (re === IMPORT_EXPR ? m[1].length : 0);
      const pos = positionIn(out, at);
      throw new InstrumentError(
        re === IMPORT_EXPR
          ? 'dynamic import() is not available in lab scripts'
          : `the sandbox refuses '${m[0]}' here (an HTML-like comment); add a space between the operators`,
        offsetIn(code, pos.line, inputColumn(pos.line, pos.column)),
      );
    }
  }
  return { code: out, inputColumn };
}

function hasSesPattern(code: string): boolean {
  HTML_COMMENT.lastIndex = 0;
  IMPORT_EXPR.lastIndex = 0;
  const found = HTML_COMMENT.test(code) || IMPORT_EXPR.test(code);
  HTML_COMMENT.lastIndex = 0;
  IMPORT_EXPR.lastIndex = 0;
  return found;
}

function positionIn(text: string, offset: number): { line: number; column: number } {
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart };
}

function offsetIn(text: string, line: number, column: number): number {
  let pos = 0;
  for (let l = 0; l < line; l++) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break;
    pos = nl + 1;
  }
  return pos + column;
}

/**
 * SES scans the raw text for `import(` and HTML-like comments. Inside a comment, change one character
 * (same length); inside a string, template or regexp literal, write that character as a `\u` escape
 * (same value). Between operators in code (`x-->0`), separate them with a space.
 */
function defuseSesPatterns(
  code: string,
  comments: Comment[],
  literals: Token[],
  edits: Edit[],
  nextSeq: () => number,
): void {
  const inRange = (list: { start: number; end: number }[], pos: number) =>
    list.some((r) => pos >= r.start && pos < r.end);
  const fix = (pos: number, code1: string, inComment: string) => {
    if (inRange(comments, pos)) {
      edits.push({ pos, del: 1, text: inComment, closing: false, seq: nextSeq() });
    } else if (inRange(literals, pos)) {
      const hex = code1.charCodeAt(0).toString(16).padStart(4, '0');
      edits.push({ pos, del: 1, text: `\\u${hex}`, closing: false, seq: nextSeq() });
    } else {
      return false;
    }
    return true;
  };
  HTML_COMMENT.lastIndex = 0;
  for (let m = HTML_COMMENT.exec(code); m; m = HTML_COMMENT.exec(code)) {
    // `<!--`: act on the `!`; `-->`: act on the `>`.
    const pos = m[0][0] === '<' ? m.index + 1 : m.index + 2;
    if (!fix(pos, code[pos], '_')) edits.push({ pos, del: 0, text: ' ', closing: false, seq: nextSeq() });
  }
  IMPORT_EXPR.lastIndex = 0;
  for (let m = IMPORT_EXPR.exec(code); m; m = IMPORT_EXPR.exec(code)) {
    fix(m.index + m[1].length, 'i', 'I');
    IMPORT_EXPR.lastIndex = m.index + m[1].length + 1;
  }
}
