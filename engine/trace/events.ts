/**
 * The registry of trace events, in the spirit of QEMU's trace-events files: every folder of the
 * engine declares its events in its own `trace-events.ts`, one `defineEvent` line each, and the
 * trace stores only the event's numeric id and its numeric arguments.
 */

/** The kinds SCRIPT-API.md names; every event belongs to exactly one. */
export type EventKind = 'call' | 'return' | 'pte' | 'tlb' | 'command' | 'virtio' | 'dma' | 'fault' | 'check';

/**
 * A field is `name:type`: `u` an unsigned number, `i` a signed number (errno), `x` an address or
 * size shown in hex, `s` a string interned in the trace's string table, `b` a boolean (0/1).
 * A call's arguments and result are whatever the script passed or got back: `v` is such a value —
 * a number, a text (a string, a handle's name, an object in brief) or nothing — and `c`, which then
 * must be the event's first field, is a name like `s` with the kinds of the event's `v` fields
 * packed below it (format.ts `CALL_KINDS`).
 */
export type FieldType = 'u' | 'i' | 'x' | 's' | 'b' | 'c' | 'v';

export interface EventField {
  readonly name: string;
  readonly type: FieldType;
}

export interface EventDef {
  readonly id: number;
  readonly name: string;
  readonly kind: EventKind;
  readonly fields: readonly EventField[];
}

/** At most this many arguments per event, so the columnar log can size its records. */
export const MAX_EVENT_FIELDS = 7;

/** Event ids are stored in 16 bits. */
export const MAX_EVENTS = 0xffff;

const byId: EventDef[] = [];
const byName = new Map<string, EventDef>();

/** Declare an event once, at module load: `defineEvent('smmu_cmdq_insert', 'command', ['op:s', 'asid:u'])`. */
export function defineEvent(name: string, kind: EventKind, fields: readonly string[]): EventDef {
  if (byName.has(name)) throw new Error(`trace event '${name}' is defined twice`);
  if (byId.length >= MAX_EVENTS) throw new Error(`more than ${MAX_EVENTS} trace events`);
  if (fields.length > MAX_EVENT_FIELDS)
    throw new Error(`trace event '${name}' has more than ${MAX_EVENT_FIELDS} fields`);
  const parsed = fields.map((f) => {
    const [fieldName, type] = f.split(':');
    if (!fieldName || !type || !'uixsbcv'.includes(type) || type.length !== 1)
      throw new Error(`trace event '${name}': bad field '${f}' (want name:u|i|x|s|b|c|v)`);
    return { name: fieldName, type: type as FieldType };
  });
  if (parsed.some((f, k) => (f.type === 'v' && parsed[0].type !== 'c') || (f.type === 'c' && k > 0)))
    throw new Error(`trace event '${name}': a 'v' field needs a 'c' field first, and only first`);
  const def: EventDef = Object.freeze({ id: byId.length, name, kind, fields: Object.freeze(parsed) });
  byId.push(def);
  byName.set(name, def);
  return def;
}

export function eventById(id: number): EventDef {
  const def = byId[id];
  if (!def) throw new Error(`no trace event with id ${id}`);
  return def;
}

export function eventByName(name: string): EventDef | undefined {
  return byName.get(name);
}

export function allEvents(): readonly EventDef[] {
  return byId;
}
