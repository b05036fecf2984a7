/**
 * Checks for every session message the page sends main (session-api.ts). A message that is not
 * exactly what the contract says is refused: `parse*` returns a reason instead of a value, and main
 * logs it and answers with an error (or ignores a one-way message), so a confused or compromised page
 * cannot make main write, read or crash. No Electron here: tested under Node.
 */
import type {
  AutosaveMessage,
  OpenRequest,
  RecoveryRequest,
  SaveRequest,
  SessionStateMessage,
} from './session-api.ts';

/** Larger than any session may be (16 MiB as UTF-8 is at most 16 Mi UTF-16 units): refuse before looking. */
export const MAX_MESSAGE_CHARS = 16 * 1024 * 1024;
const MAX_PATH = 4096;
const MAX_NAME = 255;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const no = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return (
    typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype
  );
}

/** Only the keys the contract names (a structured clone arrives as a plain object). */
function onlyKeys(x: Record<string, unknown>, allowed: string[]): string | null {
  for (const k of Object.keys(x)) if (!allowed.includes(k)) return `unexpected field '${k.slice(0, 40)}'`;
  return null;
}

function isPath(p: unknown): p is string {
  return typeof p === 'string' && p.length > 0 && p.length <= MAX_PATH && !p.includes('\0');
}

export function parseOpenRequest(x: unknown): Parsed<OpenRequest> {
  if (!isPlainObject(x)) return no('not an object');
  switch (x.kind) {
    case 'dialog':
    case 'pending': {
      const extra = onlyKeys(x, ['kind']);
      return extra ? no(extra) : ok({ kind: x.kind });
    }
    case 'recent':
    case 'dropped': {
      const extra = onlyKeys(x, ['kind', 'path']);
      if (extra) return no(extra);
      if (!isPath(x.path)) return no('path must be a non-empty string');
      return ok({ kind: x.kind, path: x.path });
    }
    default:
      return no(`unknown kind ${JSON.stringify(String(x.kind)).slice(0, 40)}`);
  }
}

export function parseSaveRequest(x: unknown): Parsed<SaveRequest> {
  if (!isPlainObject(x)) return no('not an object');
  const extra = onlyKeys(x, ['content', 'saveAs', 'suggestedName']);
  if (extra) return no(extra);
  if (typeof x.content !== 'string') return no('content must be a string');
  if (x.content.length > MAX_MESSAGE_CHARS) return no('content is larger than a session may be');
  if (typeof x.saveAs !== 'boolean') return no('saveAs must be true or false');
  if (
    x.suggestedName !== undefined &&
    (typeof x.suggestedName !== 'string' || x.suggestedName.length > MAX_NAME)
  )
    return no('suggestedName must be a short string');
  const req: SaveRequest = { content: x.content, saveAs: x.saveAs };
  if (typeof x.suggestedName === 'string') req.suggestedName = x.suggestedName;
  return ok(req);
}

export function parseStateMessage(x: unknown): Parsed<SessionStateMessage> {
  if (!isPlainObject(x)) return no('not an object');
  const extra = onlyKeys(x, ['dirty', 'name']);
  if (extra) return no(extra);
  if (typeof x.dirty !== 'boolean') return no('dirty must be true or false');
  if (typeof x.name !== 'string' || x.name.length > MAX_NAME) return no('name must be a short string');
  return ok({ dirty: x.dirty, name: x.name });
}

export function parseAutosaveMessage(x: unknown): Parsed<AutosaveMessage> {
  if (!isPlainObject(x)) return no('not an object');
  const extra = onlyKeys(x, ['content']);
  if (extra) return no(extra);
  if (x.content !== null && typeof x.content !== 'string') return no('content must be a string or null');
  if (typeof x.content === 'string' && x.content.length > MAX_MESSAGE_CHARS)
    return no('content is larger than a session may be');
  return ok({ content: x.content });
}

export function parseRecoveryRequest(x: unknown): Parsed<RecoveryRequest> {
  if (!isPlainObject(x)) return no('not an object');
  const extra = onlyKeys(x, ['id', 'action']);
  if (extra) return no(extra);
  if (typeof x.id !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(x.id)) return no('id must be an autosave id');
  if (x.action !== 'restore' && x.action !== 'discard') return no("action must be 'restore' or 'discard'");
  return ok({ id: x.id, action: x.action });
}

/** Messages without a payload: nothing but undefined is accepted. */
export function parseEmpty(x: unknown): Parsed<undefined> {
  return x === undefined ? ok(undefined) : no('this message takes no payload');
}

/** The page's own origin: messages from any other frame or page are refused. */
export function isTrustedSenderUrl(url: string | undefined, origin = 'app://lab'): boolean {
  return typeof url === 'string' && (url === origin || url.startsWith(`${origin}/`));
}

/**
 * One IPC message through its check: refused (with the reason logged) when it is not from the lab's
 * page, has extra arguments or does not parse; a handler that throws is logged and answered with a
 * refusal too. Never throws, so main lives on whatever the page sends.
 */
export async function dispatch<T, R>(
  channel: string,
  args: unknown[],
  trusted: boolean,
  parse: (x: unknown) => Parsed<T>,
  handler: (v: T) => R | Promise<R>,
  refused: (why: string) => R,
  log: (line: string, error?: unknown) => void = (line, error) =>
    console.warn(line, ...(error ? [error] : [])),
): Promise<R> {
  const p: Parsed<T> = !trusted
    ? { ok: false, reason: 'not from the lab window' }
    : args.length > 1
      ? { ok: false, reason: 'too many arguments' }
      : parse(args[0]);
  if (!p.ok) {
    log(`[ipc] refused ${channel}: ${p.reason}`);
    return refused(`refused: ${p.reason}`);
  }
  try {
    return await handler(p.value);
  } catch (e) {
    log(`[ipc] ${channel} failed`, e);
    return refused(`internal error: ${e instanceof Error ? e.message : String(e)}`);
  }
}
