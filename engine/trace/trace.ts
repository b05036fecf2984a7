import { eventById, type EventDef, type EventKind } from './events.ts';

/** One event as scripts and panels see it: `{step, kind, name, ...fields}`. */
export interface TraceEvent {
  step: number;
  kind: EventKind;
  name: string;
  [field: string]: number | string | boolean;
}

export type TraceListener = (trace: Trace, index: number) => void;

/**
 * The event log of one lab. `step` is the number of the script-level API call being executed;
 * every event emitted meanwhile carries it. Arguments are numbers (strings go through `str()`).
 *
 * Storage is deliberately simple here; the columnar layout lives behind the same methods.
 */
export class Trace {
  step = 0;
  private ids: number[] = [];
  private steps: number[] = [];
  private args: number[][] = [];
  private strings: string[] = [];
  private stringIds = new Map<string, number>();
  private listeners: (TraceListener[] | undefined)[] = [];

  get length(): number {
    return this.ids.length;
  }

  /** Intern a string so it can be passed as an `s` field. */
  str(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  emit(ev: EventDef, a = 0, b = 0, c = 0, d = 0, e = 0, f = 0): void {
    const index = this.ids.length;
    this.ids.push(ev.id);
    this.steps.push(this.step);
    this.args.push([a, b, c, d, e, f].slice(0, ev.fields.length));
    const ls = this.listeners[ev.id];
    if (ls) for (const l of ls) l(this, index);
  }

  /** Call `listener` after every `ev` is recorded (checks watch the trace this way). */
  on(ev: EventDef, listener: TraceListener): void {
    (this.listeners[ev.id] ??= []).push(listener);
  }

  /** The numeric argument `field` (0-based) of event `index`. */
  arg(index: number, field: number): number {
    return this.args[index][field];
  }

  idAt(index: number): number {
    return this.ids[index];
  }

  stepAt(index: number): number {
    return this.steps[index];
  }

  event(index: number): TraceEvent {
    const def = eventById(this.ids[index]);
    const out: TraceEvent = { step: this.steps[index], kind: def.kind, name: def.name };
    def.fields.forEach((field, i) => {
      const v = this.args[index][i];
      out[field.name] = field.type === 's' ? this.strings[v] : field.type === 'b' ? v !== 0 : v;
    });
    return out;
  }
}
