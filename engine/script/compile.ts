/**
 * One user file → code ready for the sandbox, plus the way back from a position in that code to
 * the user's own line and column: evaluated code → instrumented (a wrapper line on top) →
 * transpiled (guard text removed) → source (sucrase's map).
 */
import { transpile, ScriptSyntaxError, type ElidedImport } from './transpile.ts';
import { instrument, InstrumentError, GUARD } from './instrument.ts';

/** The parameters every file's module function receives (CommonJS shape plus the lab's own). */
export const MODULE_PARAMS = ['require', 'module', 'exports', 'console', GUARD] as const;

export interface CompiledFile {
  name: string;
  /** `(function (require, module, exports, console, guard) {…})` with a sourceURL. */
  code: string;
  sourceUrl: string;
  /** 1-based position in `code` → 1-based position in the user's file; undefined for the wrapper lines. */
  toUser(line: number, column: number): { line: number; column: number } | undefined;
  /** Imports TypeScript's elision dropped: the runner still checks that they name a module it has. */
  elidedImports: readonly ElidedImport[];
}

/** What compiling a file's text gives, whatever the run: kept per process, keyed by name and text. */
interface CompiledText {
  /** The instrumented code, without the module wrapper. */
  code: string;
  toUser(line: number, column: number): { line: number; column: number } | undefined;
  elidedImports: readonly ElidedImport[];
}

/**
 * Recently compiled texts. A matrix runs one file once per cell, and a user reruns a file as it is
 * (or switches between a few tabs), so the same text comes back often; a text is small next to the
 * lab it drives. Least recently used first; a new text beyond the budget evicts the oldest.
 */
const compiledTexts = new Map<string, CompiledText>();
const CACHE_MAX_FILES = 32;
const CACHE_MAX_CHARS = 4_000_000;
let cachedChars = 0;

export function compileFile(name: string, source: string, sourceUrl: string): CompiledFile {
  const key = `${name}\u0000${source}`;
  let text = compiledTexts.get(key);
  if (text !== undefined) {
    compiledTexts.delete(key);
    compiledTexts.set(key, text);
  } else {
    text = compileText(name, source);
    if (key.length <= CACHE_MAX_CHARS / 4) {
      compiledTexts.set(key, text);
      cachedChars += key.length;
      for (const [k] of compiledTexts) {
        if (compiledTexts.size <= CACHE_MAX_FILES && cachedChars <= CACHE_MAX_CHARS) break;
        compiledTexts.delete(k);
        cachedChars -= k.length;
      }
    }
  }
  return {
    name,
    code: `(function (${MODULE_PARAMS.join(', ')}) {'use strict';\n${text.code}\n})\n//# sourceURL=${sourceUrl}`,
    sourceUrl,
    toUser: text.toUser,
    elidedImports: text.elidedImports,
  };
}

function compileText(name: string, source: string): CompiledText {
  // A hashbang line (`#!/usr/bin/env …`) is valid only at the very start of a script, and the
  // compiled code runs inside a function: as a comment of the same length, positions stay put.
  if (source.startsWith('#!')) source = `//${source.slice(2)}`;
  const { code: js, map, elided } = transpile(source, name);
  let inst;
  try {
    inst = instrument(js, MODULE_PARAMS);
  } catch (e) {
    if (!(e instanceof InstrumentError)) throw e;
    const before = js.slice(0, e.offset);
    const line0 = before.split('\n').length - 1;
    const col0 = e.offset - (before.lastIndexOf('\n') + 1);
    const at = map.original(line0, col0);
    throw new ScriptSyntaxError(e.message, at.line + 1, at.column + 1);
  }
  const lineCount = inst.code.split('\n').length;
  return {
    code: inst.code,
    elidedImports: elided,
    toUser(line, column) {
      const l0 = line - 2;
      if (l0 < 0 || l0 >= lineCount) return undefined;
      const at = map.original(l0, inst.inputColumn(l0, column - 1));
      return { line: at.line + 1, column: at.column + 1 };
    },
  };
}
