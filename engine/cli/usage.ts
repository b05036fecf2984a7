/**
 * Command-line parsing shared by the commands. Bad usage is a `UsageError`: main prints its one-line
 * reason to stderr and exits 3.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CHECK_IDS } from '../core/checks.ts';
import { KERNEL_NAMES } from '../core/kernel-profile.ts';

export class UsageError extends Error {}

export const EXIT = { ok: 0, failed: 1, error: 2, usage: 3 } as const;

type Options = NonNullable<ParseArgsConfig['options']>;

/** util.parseArgs with its messages turned into UsageErrors that name the command. */
export function parse<O extends Options>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    // A value that starts with '-' (`--timeout -5`) reads as another option to parseArgs.
    const ambiguous = /^Option '(--[\w-]+)(?: <value>)?' argument is ambiguous/.exec((e as Error).message);
    if (ambiguous) {
      const flag = ambiguous[1];
      const value = argv[argv.findIndex((a) => a === flag || a.startsWith(`${flag} `)) + 1] ?? '';
      throw new UsageError(
        `${command}: option '${flag}' is followed by '${value}', which starts with '-': write ${flag}=${value} if that is its value`,
      );
    }
    const msg = (e as Error).message
      .replace(/\. To specify a positional argument.*$/s, '')
      .replace(/^Option '(.*?)'/, "option '$1'");
    throw new UsageError(`${command}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`);
  }
}

export function checkKernel(k: string): string {
  if (!(KERNEL_NAMES as readonly string[]).includes(k))
    throw new UsageError(`unknown kernel '${k}' (choose from ${KERNEL_NAMES.join(', ')})`);
  return k;
}

/** `--param name=value`, repeatable; a later value for the same name wins. */
export function parseParams(list: string[] | undefined): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const p of list) {
    const eq = p.indexOf('=');
    const name = eq < 0 ? '' : p.slice(0, eq);
    if (!/^[A-Za-z_][\w.-]*$/.test(name))
      throw new UsageError(`bad --param '${p}' (want name=value, the name a word)`);
    // A plain assignment would set the prototype for '__proto__' and lose the param.
    Object.defineProperty(out, name, {
      value: p.slice(eq + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** `--seed`: what lab.seed(n) would take, as the session format stores it. */
export function parseSeed(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s) || Number(s) > 0xffffffff)
    throw new UsageError(`bad --seed '${s}' (want a whole number from 0 to 4294967295)`);
  return Number(s);
}

/** `--disable-check` of run and matrix: checks of this lab only (a session file may keep others). */
export function parseDisabledChecks(ids: string[] | undefined): string[] | undefined {
  for (const id of ids ?? [])
    if (!(CHECK_IDS as readonly string[]).includes(id))
      throw new UsageError(`unknown check '${id}' for --disable-check (the lab has ${CHECK_IDS.join(', ')})`);
  return ids?.length ? ids : undefined;
}

/** Checks switched off by a session and by the command line: each once. */
export const checksOff = (session: readonly string[], given: readonly string[] | undefined): string[] => [
  ...new Set([...session, ...(given ?? [])]),
];

export function parseTimeout(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s) || Number(s) <= 0 || !Number.isSafeInteger(Number(s)))
    throw new UsageError(`bad --timeout '${s}' (want a whole number of milliseconds, 1 or more)`);
  return Number(s);
}

export function parseList(
  flag: string,
  s: string | undefined,
  allowed: readonly string[],
  what: string,
): string[] | undefined {
  if (s === undefined) return undefined;
  const items = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`${flag} needs at least one ${what}`);
  for (const i of items)
    if (!allowed.includes(i))
      throw new UsageError(`unknown ${what} '${i}' in ${flag} (choose from ${allowed.join(', ')})`);
  // A name given twice is one row or column, not two.
  return [...new Set(items)];
}
