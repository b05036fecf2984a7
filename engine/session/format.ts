/**
 * The `.iommulab` session file: what it holds once loaded, and the limits every loader applies.
 *
 * A session is the semantic content of a lab — the scripts (editor tabs), the active tab, the kernel
 * profile, the seed, `lab.params`, the checks switched off and free-text notes — plus, apart from it,
 * an optional panel `layout` that belongs to the renderer and is carried here as opaque JSON.
 *
 * The file is JSON with `$schema` (the id of the JSON Schema shipped beside this file) and
 * `formatVersion`; older versions are migrated one step at a time (migrate.ts).
 */
import { CHECK_IDS } from '../core/checks.ts';
import { DEFAULT_KERNEL, KERNEL_NAMES, type KernelName } from '../core/kernel-profile.ts';

/** The version this lab writes, and the newest it reads. */
export const FORMAT_VERSION = 2;
/** The oldest version it still reads (migrated on load). */
export const OLDEST_FORMAT_VERSION = 1;

/** `$schema` of a file of version `v`: the `$id` of that version's schema. */
export const schemaId = (v: number): string => `urn:iommu-lab:session:${v}`;

/** Files larger than this are refused before parsing: a session is scripts and notes, not data. */
export const MAX_SESSION_BYTES = 16 * 1024 * 1024;
export const MAX_SESSION_SIZE_TEXT = '16 MiB';
/** Deeper JSON than this is refused (a layout or a param never needs it, and it keeps walks bounded). */
export const MAX_DEPTH = 64;

/**
 * Tab names are file names: the names errors show and that scripts import each other by (`./name`).
 * A name may have folders (`lib/iova-window.ts`, as the built-in scenarios import), never `..`:
 * every segment starts with a letter, digit or `_`.
 */
export const SCRIPT_NAME_RE = new RegExp(
  '^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*/)*[A-Za-z0-9_][A-Za-z0-9_.-]*\\.(ts|js)$',
);
/** `lab.params` names, as `--param name=value` accepts them. */
export const PARAM_NAME_RE = /^[A-Za-z_][\w.-]*$/;

export { KERNEL_NAMES, DEFAULT_KERNEL, type KernelName };
export const KNOWN_CHECK_IDS: readonly string[] = CHECK_IDS;

export interface SessionScript {
  name: string;
  source: string;
}

/** A loaded session, every field filled (defaults applied). */
export interface Session {
  scripts: SessionScript[];
  /** The name of the tab that runs on Ctrl+Enter; one of `scripts`. */
  activeScript: string;
  kernel: KernelName;
  /** `lab.seed` before the script runs: an unsigned 32-bit integer. */
  seed: number;
  /** `lab.params`: names to string values. */
  params: Record<string, string>;
  /** Check ids switched off for this session. */
  disabledChecks: string[];
  notes: string;
  /** The renderer's panel layout, opaque here; absent when the file has none (or a bad one). */
  layout?: Record<string, unknown>;
}

/** What a fresh lab starts from, given its scripts. */
export function newSession(scripts: SessionScript[], over: Partial<Omit<Session, 'scripts'>> = {}): Session {
  if (scripts.length === 0) throw new Error('a session needs at least one script');
  return {
    scripts: scripts.map((s) => ({ name: s.name, source: s.source })),
    activeScript: over.activeScript ?? scripts[0]!.name,
    kernel: over.kernel ?? DEFAULT_KERNEL,
    seed: over.seed ?? 0,
    params: { ...(over.params ?? {}) },
    disabledChecks: [...(over.disabledChecks ?? [])],
    notes: over.notes ?? '',
    ...(over.layout ? { layout: over.layout } : {}),
  };
}

/** Why a file could not be loaded; `message` is the one line a user sees. */
export type SessionErrorKind =
  | 'empty'
  | 'too-large'
  | 'truncated'
  | 'not-json'
  | 'too-deep'
  | 'not-object'
  | 'no-version'
  | 'bad-version'
  | 'future-version'
  | 'invalid';

export interface SessionError {
  kind: SessionErrorKind;
  message: string;
  /** The field at fault (`scripts[1].source`), when there is one. */
  path?: string;
}

export type LoadResult =
  | {
      ok: true;
      session: Session;
      /** Things that did not stop the load (a bad layout dropped, an unknown check id kept). */
      warnings: string[];
      /** The file's own formatVersion (older than FORMAT_VERSION when it was migrated). */
      formatVersion: number;
    }
  | { ok: false; error: SessionError };
