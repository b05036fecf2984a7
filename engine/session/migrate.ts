/**
 * Migrations between format versions, one step at a time: a file of version v is validated against
 * v's schema, then `MIGRATIONS[v]` turns it into version v + 1, which is validated against that
 * version's schema, and so on up to FORMAT_VERSION. A new version adds its schema to SCHEMAS, one
 * function here, and a fixture with its test; older steps never change.
 *
 * History:
 *   1 → 2  one script became a list of tabs (the old one is `main.ts`, the active tab); the kernel
 *          became its profile name (608 → 'v6.8'); the map of check switches became the list of the
 *          checks switched off.
 */
import currentSchema from './iommulab.schema.json' with { type: 'json' };
import v1Schema from './schemas/iommulab-1.schema.json' with { type: 'json' };
import { FORMAT_VERSION, schemaId } from './format.ts';
import type { JsonSchema } from './json-schema.ts';

/** Each version's schema; the current one is the file that ships as iommulab.schema.json. */
export const SCHEMAS: Record<number, JsonSchema> = {
  1: v1Schema as JsonSchema,
  [FORMAT_VERSION]: currentSchema as JsonSchema,
};

export type JsonObject = Record<string, unknown>;

/** A migration that meets content it cannot carry over says which field, as the loader does. */
export class MigrationError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

interface V1 {
  $schema?: string;
  formatVersion: 1;
  script: string;
  kernel?: number;
  seed?: number;
  params?: Record<string, string>;
  checks?: Record<string, boolean>;
  notes?: string;
}

/** The name version 1's one script gets as a tab. */
export const V1_SCRIPT_NAME = 'main.ts';

function v1to2(doc: JsonObject): JsonObject {
  const d = doc as unknown as V1;
  const out: JsonObject = {
    $schema: schemaId(2),
    formatVersion: 2,
    scripts: [{ name: V1_SCRIPT_NAME, source: d.script }],
    activeScript: V1_SCRIPT_NAME,
  };
  if (d.kernel !== undefined) {
    const major = Math.floor(d.kernel / 100);
    const minor = d.kernel % 100;
    if (major < 1 || minor < 0)
      throw new MigrationError('kernel', `kernel ${d.kernel} names no kernel version`);
    out.kernel = `v${major}.${minor}`;
  }
  if (d.seed !== undefined) out.seed = d.seed;
  if (d.params !== undefined) out.params = Object.fromEntries(Object.entries(d.params));
  if (d.checks !== undefined)
    out.disabledChecks = Object.keys(d.checks)
      .filter((id) => d.checks![id] === false)
      .sort();
  if (d.notes !== undefined) out.notes = d.notes;
  return out;
}

/** `MIGRATIONS[v]` turns a valid version-v document into a version-(v + 1) one. */
export const MIGRATIONS: Record<number, (doc: JsonObject) => JsonObject> = {
  1: v1to2,
};
