/**
 * Loading a session file: text in, a Session or one clear error out. Nothing in the file is ever
 * run or evaluated — scripts are text until the user presses Run — and this never throws: a caller
 * keeps its current session whenever the answer is an error.
 *
 * Order of the checks (the first that fails is the message):
 *   size limit → empty → JSON syntax (truncated or not) → nesting depth, numbers that overflow →
 *   top-level object →
 *   formatVersion (missing, not a whole number, from a newer lab, unknown) → that version's schema →
 *   migrations up to the current version → rules a schema cannot say (unique tab names, the active
 *   tab exists). A bad `layout` is dropped with a warning; unknown check ids are kept with one.
 */
import {
  DEFAULT_KERNEL,
  FORMAT_VERSION,
  KNOWN_CHECK_IDS,
  MAX_DEPTH,
  MAX_SESSION_BYTES,
  MAX_SESSION_SIZE_TEXT,
  OLDEST_FORMAT_VERSION,
  type KernelName,
  type LoadResult,
  type Session,
  type SessionError,
  type SessionErrorKind,
} from './format.ts';
import { describeValue, validate } from './json-schema.ts';
import { findJsonHazard, findJsonSyntaxError, formatBytes, utf8Length } from './json-text.ts';
import { MIGRATIONS, MigrationError, SCHEMAS, type JsonObject } from './migrate.ts';

class LoadFailure {
  constructor(readonly error: SessionError) {}
}

function fail(kind: SessionErrorKind, message: string, path?: string): never {
  throw new LoadFailure(path === undefined ? { kind, message } : { kind, message, path });
}

/** Refuse a size before reading the bytes (callers that know the size of a file call this first). */
export function sizeError(bytes: number): SessionError | null {
  if (bytes <= MAX_SESSION_BYTES) return null;
  const shown = formatBytes(bytes);
  return {
    kind: 'too-large',
    message: `the file is ${shown === MAX_SESSION_SIZE_TEXT ? `more than ${shown}` : shown}; a session file may be at most ${MAX_SESSION_SIZE_TEXT}`,
  };
}

/** Parse and check a session file's text. Never throws. */
export function loadSession(text: unknown): LoadResult {
  try {
    return load(text);
  } catch (e) {
    if (e instanceof LoadFailure) return { ok: false, error: e.error };
    // Not expected; still a message rather than a crash, and the caller's session stays.
    const why = e instanceof Error ? e.message : String(e);
    return { ok: false, error: { kind: 'invalid', message: `the session could not be read: ${why}` } };
  }
}

function load(input: unknown): LoadResult {
  if (typeof input !== 'string') fail('not-json', 'a session file is text');
  let text = input;
  // Cheap bounds first: UTF-8 takes at least one byte per UTF-16 unit and at most three.
  if (
    text.length > MAX_SESSION_BYTES ||
    (text.length * 3 > MAX_SESSION_BYTES && utf8Length(text) > MAX_SESSION_BYTES)
  )
    throw new LoadFailure(sizeError(text.length > MAX_SESSION_BYTES ? text.length : utf8Length(text))!);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') fail('empty', 'the file is empty');

  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    const p = findJsonSyntaxError(text);
    if (p?.atEnd) fail('truncated', `the file is truncated: ${p.reason} (line ${p.line})`);
    fail(
      'not-json',
      p ? `not valid JSON at line ${p.line}, column ${p.column}: ${p.reason}` : 'not valid JSON',
    );
  }

  const twice = findJsonSyntaxError(text, true);
  if (twice) fail('invalid', `line ${twice.line}, column ${twice.column}: ${twice.reason}`);

  const hazard = findJsonHazard(doc, MAX_DEPTH);
  if (hazard?.kind === 'too-deep')
    fail('too-deep', `${hazard.path} nests deeper than ${MAX_DEPTH} levels`, hazard.path);
  if (hazard?.kind === 'overflow')
    fail('invalid', `${hazard.path || 'the file'} holds a number too large for JSON`, hazard.path);

  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    fail('not-object', `a session file holds a JSON object; this one holds ${describeValue(doc)}`);
  let obj = doc as JsonObject;

  if (!Object.hasOwn(obj, 'formatVersion'))
    fail('no-version', 'formatVersion is missing: this is not an IOMMU Lab session file', 'formatVersion');
  const v = obj.formatVersion;
  if (typeof v !== 'number' || !Number.isInteger(v))
    fail('bad-version', `formatVersion must be a whole number (found ${describeValue(v)})`, 'formatVersion');
  if (v > FORMAT_VERSION)
    fail(
      'future-version',
      `made by a newer IOMMU Lab: formatVersion ${v}, this lab reads up to ${FORMAT_VERSION}`,
      'formatVersion',
    );
  if (v < OLDEST_FORMAT_VERSION)
    fail(
      'bad-version',
      `formatVersion ${v} is not a session format version (this lab reads ${OLDEST_FORMAT_VERSION} to ${FORMAT_VERSION})`,
      'formatVersion',
    );

  const issue = validate(SCHEMAS[v]!, obj);
  if (issue)
    fail(
      'invalid',
      v < FORMAT_VERSION ? `${issue.message} (in a format ${v} file)` : issue.message,
      issue.path,
    );

  for (let from = v; from < FORMAT_VERSION; from++) {
    try {
      obj = MIGRATIONS[from]!(obj);
    } catch (e) {
      if (e instanceof MigrationError) fail('invalid', `${e.message} (in a format ${from} file)`, e.path);
      throw e;
    }
    const after = validate(SCHEMAS[from + 1]!, obj);
    if (after)
      fail(
        'invalid',
        `could not bring a format ${from} file to format ${from + 1}: ${after.message}`,
        after.path,
      );
  }

  return { ok: true, formatVersion: v, ...toSession(obj) };
}

/** The current version's document (schema-valid) as a Session, after the rules a schema cannot say. */
function toSession(doc: JsonObject): { session: Session; warnings: string[] } {
  const warnings: string[] = [];
  const scripts = (doc.scripts as { name: string; source: string }[]).map((s) => ({
    name: s.name,
    source: s.source,
  }));

  const seen = new Map<string, number>();
  scripts.forEach((s, i) => {
    const first = seen.get(s.name);
    if (first !== undefined)
      fail(
        'invalid',
        `scripts[${i}].name ${describeValue(s.name)} repeats scripts[${first}].name; every tab needs its own name`,
        `scripts[${i}].name`,
      );
    seen.set(s.name, i);
  });

  const active = (doc.activeScript as string | undefined) ?? scripts[0]!.name;
  if (!seen.has(active))
    fail(
      'invalid',
      `activeScript ${describeValue(active)} is not one of the scripts (${scripts.map((s) => s.name).join(', ')})`,
      'activeScript',
    );

  const disabledChecks = [...((doc.disabledChecks as string[] | undefined) ?? [])];
  disabledChecks.forEach((id, i) => {
    if (!KNOWN_CHECK_IDS.includes(id))
      warnings.push(
        `disabledChecks[${i}]: this lab has no check ${describeValue(id)} (kept, so a lab that has it still sees it off)`,
      );
  });

  const session: Session = {
    scripts,
    activeScript: active,
    kernel: (doc.kernel as KernelName | undefined) ?? DEFAULT_KERNEL,
    seed: (doc.seed as number | undefined) ?? 0,
    // fromEntries defines own properties, so a param named __proto__ stays a plain param.
    params: Object.fromEntries(Object.entries((doc.params as Record<string, string> | undefined) ?? {})),
    disabledChecks,
    notes: (doc.notes as string | undefined) ?? '',
  };

  if (Object.hasOwn(doc, 'layout')) {
    const l = doc.layout;
    if (typeof l === 'object' && l !== null && !Array.isArray(l))
      session.layout = l as Record<string, unknown>;
    else warnings.push(`layout is ${describeValue(l)}, not an object; the default layout is used`);
  }
  return { session, warnings };
}
