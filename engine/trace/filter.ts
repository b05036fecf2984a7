import { allEvents, type EventDef, type EventKind } from './events.ts';
import { NAMES, V_NUMBER, V_NUMBERED, V_TEXT, callName, valueKind } from './format.ts';

/**
 * What the Trace panel (and CSV export) can ask for. Every member narrows the result; an empty
 * filter matches everything.
 */
export interface TraceFilter {
  kinds?: readonly EventKind[];
  /** Exact event names. */
  names?: readonly string[];
  /** Substring of the event name (case-insensitive). */
  nameContains?: string;
  /** First and last step, both included. */
  fromStep?: number;
  toStep?: number;
  /**
   * Case-insensitive substring of the row as the panel shows it: `name field=value ...`, with
   * `x` fields in hex and strings as text. A text without `=` is looked for in the name, the field
   * names and each value; with `=`, in each `field=value`.
   */
  text?: string;
  /**
   * Field values that must all match, e.g. `{ domain: 3 }` or `{ device: '0000:00:03.0' }`.
   * A key may list alternatives, `'dev|device'`: the event matches if any field of those names
   * equals the value. Events lacking every named field do not match.
   */
  fields?: Readonly<Record<string, number | string | boolean>>;
  /**
   * Case-insensitive substrings of field values as shown, all of which must match, e.g.
   * `{ device: 'nic' }` for the events of nic0 and nic1: what a filter box for one field matches.
   * Keys list alternatives as in `fields`; events lacking every named field do not match; an empty
   * or blank text matches any value of the field.
   */
  fieldsContain?: Readonly<Record<string, string>>;
}

/** What a filter needs to read from the log while it is compiled and applied. */
export interface FilterSource {
  readonly strings: readonly string[];
  stringId(s: string): number | undefined;
  arg(index: number, field: number): number;
  /** The field as the Trace panel shows it. */
  text(index: number, field: number): string;
}

export const REJECT = 0;
export const ACCEPT = 1;
export const ASK_ROW = 2;

export interface CompiledFilter {
  /** Per event id: REJECT, ACCEPT, or ASK_ROW (call `row`). Ids past its end are rejected. */
  readonly table: Uint8Array;
  readonly fromStep: number;
  readonly toStep: number;
  /** True when every event in the step range matches, so no scan is needed. */
  readonly all: boolean;
  row(index: number, id: number): boolean;
}

/** A key that changes whenever the compiled form of `filter` would. */
export function filterKey(filter: TraceFilter | undefined, src: FilterSource): string {
  if (!filter) return '';
  const dependsOnStrings =
    filter.text !== undefined || filter.fields !== undefined || filter.fieldsContain !== undefined;
  return JSON.stringify([
    filter.kinds,
    filter.names,
    filter.nameContains,
    filter.fromStep,
    filter.toStep,
    filter.text,
    filter.fields,
    filter.fieldsContain,
    allEvents().length,
    dependsOnStrings ? src.strings.length : 0,
  ]);
}

/**
 * Per field of one event: which values or value texts can satisfy a condition. `kind` is what a
 * `v` field must hold (format.ts V_*), NAME for a `c` field (its name is compared), else ANY.
 */
type FieldCondition = { field: number; raw: number; kind: number }[];
const ANY = -1;
const NAME = -2;

/**
 * A `fieldsContain` entry: the text, which strings of the table contain it (so a string field costs
 * one lookup per row, as an exact match does), and per event id the fields it looks at.
 */
interface ContainCondition {
  text: string;
  strings: Uint8Array;
  fields: (number[] | undefined)[];
}

/**
 * 1 for each string of the table that contains `text` (lower case), case-insensitively: worked out
 * once per filter, so a string field costs one lookup per row.
 */
function stringsContaining(strings: readonly string[], text: string): Uint8Array {
  const out = new Uint8Array(strings.length);
  strings.forEach((s, i) => (out[i] = s.toLowerCase().includes(text) ? 1 : 0));
  return out;
}

/** Characters that can appear in a number as shown (`-0x1f`, `1.5`, `1e+21`, `NaN`, `Infinity`). */
const NUMERIC_TEXT = /^[-+.0-9a-fxnity]+$/;

export function compileFilter(filter: TraceFilter | undefined, src: FilterSource): CompiledFilter {
  const defs = allEvents();
  const table = new Uint8Array(defs.length);
  const fromStep = filter?.fromStep ?? -Infinity;
  const toStep = filter?.toStep ?? Infinity;
  const kinds = filter?.kinds ? new Set(filter.kinds) : undefined;
  const names = filter?.names ? new Set(filter.names) : undefined;
  const nameContains = filter?.nameContains?.toLowerCase();
  const text = filter?.text?.trim().toLowerCase() || undefined;
  const fieldEntries = filter?.fields ? Object.entries(filter.fields) : [];
  const contains: (ContainCondition & { alternatives: string[] })[] = Object.entries(
    filter?.fieldsContain ?? {},
  ).map(([key, want]) => {
    const text = String(want).trim().toLowerCase();
    return { text, strings: stringsContaining(src.strings, text), fields: [], alternatives: key.split('|') };
  });

  const conditions: (FieldCondition[] | undefined)[] = [];
  const textFields: (number[] | undefined)[] = [];
  const strMatch =
    text !== undefined && !text.includes('=') ? stringsContaining(src.strings, text) : undefined;

  let all = true;
  for (const def of defs) {
    table[def.id] = classify(def);
    if (table[def.id] !== ACCEPT) all = false;
  }

  function classify(def: EventDef): number {
    if (kinds && !kinds.has(def.kind)) return REJECT;
    if (names && !names.has(def.name)) return REJECT;
    if (nameContains !== undefined && !def.name.toLowerCase().includes(nameContains)) return REJECT;
    let ask = false;
    if (fieldEntries.length) {
      const conds: FieldCondition[] = [];
      for (const [key, want] of fieldEntries) {
        const cond = fieldCondition(def, key, want);
        if (!cond.length) return REJECT;
        conds.push(cond);
      }
      conditions[def.id] = conds;
      ask = true;
    }
    for (const c of contains) {
      const fields: number[] = [];
      def.fields.forEach((f, k) => {
        if (c.alternatives.includes(f.name)) fields.push(k);
      });
      if (!fields.length) return REJECT;
      c.fields[def.id] = fields;
      ask = true;
    }
    if (text !== undefined) {
      const t = textClass(def, text);
      if (t === REJECT) return REJECT;
      if (t === ASK_ROW) ask = true;
    }
    return ask ? ASK_ROW : ACCEPT;
  }

  function fieldCondition(def: EventDef, key: string, want: number | string | boolean): FieldCondition {
    const alternatives = key.split('|');
    const cond: FieldCondition = [];
    def.fields.forEach((f, k) => {
      if (!alternatives.includes(f.name)) return;
      const kind = f.type === 'c' ? NAME : f.type === 'v' ? V_NUMBER : ANY;
      let raw: number | undefined;
      if (f.type === 's' || f.type === 'c') raw = src.stringId(String(want));
      else if (typeof want === 'boolean') raw = want ? 1 : 0;
      else if (typeof want === 'number') raw = want;
      else if (want.trim() !== '') raw = Number(want);
      if (raw !== undefined && !Number.isNaN(raw)) cond.push({ field: k, raw, kind });
      // A call's argument may be a text too ('"smmu0"', 'device nic0') or a numbered name ('domain 2').
      if (f.type !== 'v' || typeof want !== 'string') return;
      const text = src.stringId(want);
      if (text !== undefined) cond.push({ field: k, raw: text, kind: V_TEXT });
      const [, name, n] = /^(.+) (\d+)$/.exec(want) ?? [];
      const id = name === undefined ? undefined : src.stringId(name);
      if (id !== undefined && id < NAMES)
        cond.push({ field: k, raw: Number(n) * NAMES + id, kind: V_NUMBERED });
    });
    return cond;
  }

  function textClass(def: EventDef, t: string): number {
    if (def.name.toLowerCase().includes(t)) return ACCEPT;
    const fields: number[] = [];
    if (t.includes('=')) {
      def.fields.forEach((_f, k) => fields.push(k));
    } else {
      const numeric = NUMERIC_TEXT.test(t) || 'true'.includes(t) || 'false'.includes(t);
      for (let k = 0; k < def.fields.length; k++) {
        const f = def.fields[k];
        if (f.name.toLowerCase().includes(t)) return ACCEPT;
        if (f.type === 's' || f.type === 'c' || f.type === 'v' || numeric) fields.push(k);
      }
    }
    if (!fields.length) return REJECT;
    textFields[def.id] = fields;
    return ASK_ROW;
  }

  function textRow(index: number, def: EventDef, fields: number[], t: string): boolean {
    const withName = t.includes('=');
    for (const k of fields) {
      const f = def.fields[k];
      if (!withName && (f.type === 's' || f.type === 'c')) {
        const raw = src.arg(index, k);
        if (strMatch![f.type === 'c' ? callName(raw) : raw] === 1) return true;
        continue;
      }
      const shown = src.text(index, k).toLowerCase();
      if ((withName ? f.name.toLowerCase() + '=' + shown : shown).includes(t)) return true;
    }
    return false;
  }

  /** Does one of the fields `c` looks at in this event show its text? */
  function shows(index: number, def: EventDef, c: ContainCondition): boolean {
    for (const k of c.fields[def.id]!) {
      const type = def.fields[k].type;
      const raw = src.arg(index, k);
      if (type === 's') {
        if (c.strings[raw] === 1) return true;
      } else if (type === 'c') {
        if (c.strings[callName(raw)] === 1) return true;
      } else if (type === 'v' && valueKind(src.arg(index, 0), k) === V_TEXT) {
        if (c.strings[raw] === 1) return true;
      } else if (src.text(index, k).toLowerCase().includes(c.text)) return true;
    }
    return false;
  }

  function holds(index: number, c: FieldCondition[number]): boolean {
    const v = src.arg(index, c.field);
    if (c.kind === NAME) return callName(v) === c.raw;
    return v === c.raw && (c.kind === ANY || valueKind(src.arg(index, 0), c.field) === c.kind);
  }

  function row(index: number, id: number): boolean {
    const conds = conditions[id];
    if (conds) {
      for (const cond of conds) {
        let ok = false;
        for (const c of cond) if (holds(index, c)) ok = true;
        if (!ok) return false;
      }
    }
    for (const c of contains) if (!shows(index, defs[id], c)) return false;
    const fields = textFields[id];
    if (fields && !textRow(index, defs[id], fields, text!)) return false;
    return true;
  }

  return { table, fromStep, toStep, all, row };
}
