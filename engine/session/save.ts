/**
 * Writing a session: canonical, stable JSON, so the same session always gives the same bytes and a
 * change shows in a diff as the lines it touched. Two-space indent, a final newline, fields in one
 * fixed order (the header, the run settings, the tabs, the notes, the layout), and the keys of the
 * free-form maps (params, layout) sorted.
 */
import { FORMAT_VERSION, schemaId, type Session } from './format.ts';

/** A JSON value with every object's keys sorted (arrays keep their order). */
export function sortKeys(value: unknown, depth = 0): unknown {
  if (depth > 200) throw new Error('a session value nests too deeply to save');
  if (Array.isArray(value)) return value.map((v) => sortKeys(v, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const o = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) {
    const v = sortKeys(o[k], depth + 1);
    // defineProperty, so a key named __proto__ stays data instead of setting the prototype.
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The document a session saves as (current format version, every semantic field explicit). */
export function sessionDocument(s: Session): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    $schema: schemaId(FORMAT_VERSION),
    formatVersion: FORMAT_VERSION,
    kernel: s.kernel,
    seed: s.seed,
    params: sortKeys(s.params),
    disabledChecks: [...new Set(s.disabledChecks)].sort(),
    activeScript: s.activeScript,
    scripts: s.scripts.map((t) => ({ name: t.name, source: t.source })),
    notes: s.notes,
  };
  if (s.layout !== undefined) doc.layout = sortKeys(s.layout);
  return doc;
}

/** The file's text. */
export function serializeSession(s: Session): string {
  return `${JSON.stringify(sessionDocument(s), null, 2)}\n`;
}

/**
 * What the app compares for "unsaved changes": the content, not the view — the layout and which tab
 * is in front are saved with the session but changing them alone is not an edit.
 */
export function semanticKey(s: Session): string {
  const { layout: _layout, ...rest } = s;
  return JSON.stringify(sessionDocument({ ...rest, activeScript: '' }));
}
