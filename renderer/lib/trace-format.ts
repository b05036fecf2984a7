/**
 * How a trace event reads in the Trace panel: `field=value …` with addresses and sizes in hex (the
 * engine's field types say which), errnos named, and `api_call` rows as the call the script made,
 * `iommu_map(domain 1, iova=0x10000, …)`, its arguments named from the API table.
 */
import type { TraceSchema, TraceWindow } from '../../engine/host/protocol.ts';

export type TraceEvent = TraceWindow['events'][number];
export type FieldType = TraceSchema['events'][number]['fields'][number]['type'];

/** The schema, indexed for formatting many rows. */
export interface TraceFormat {
  fields: Map<string, { name: string; type: FieldType }[]>;
  api: Record<string, string[]>;
  /** 22 → 'EINVAL'. */
  errno: Map<number, string>;
}

export function traceFormat(schema: TraceSchema, errno: Map<number, string> = new Map()): TraceFormat {
  return { fields: new Map(schema.events.map((e) => [e.name, e.fields])), api: schema.api, errno };
}

export function hex(v: number): string {
  return v < 0 ? '-0x' + (-v).toString(16) : '0x' + v.toString(16);
}

/** A negative return as Linux prints it: `-22 (EINVAL)`. */
function signed(v: number, f: TraceFormat): string {
  const name = v < 0 ? f.errno.get(-v) : undefined;
  return name ? `${v} (-${name})` : String(v);
}

function value(type: FieldType, v: number | string | boolean, f: TraceFormat): string {
  if (typeof v === 'string') return v === '' || v.includes(' ') ? JSON.stringify(v) : v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (type === 'x') return hex(v);
  if (type === 'i') return signed(v, f);
  return String(v);
}

/**
 * An api_call argument as the engine recorded it (engine/script/arg-text.ts): a number, or a text —
 * a handle's name (`domain 2`, `device nic0`), which stands alone as a pointer would, or a string,
 * object or NULL, shown after the parameter's name. Arguments not passed are not in the event.
 */
const HANDLE = /^(domain|device|iommu|group|gather|bus) /;
const DECIMAL = new Set(['dir', 'type', 'n', 'ms', 'pgcount', 'count', 'nth']);

function apiArg(param: string, v: number | string | boolean): string {
  if (typeof v !== 'number') return HANDLE.test(String(v)) ? String(v) : `${param}=${String(v)}`;
  return `${param}=${DECIMAL.has(param) ? v : hex(v)}`;
}

/** The text after the event's name. */
export function eventDetail(ev: TraceEvent, f: TraceFormat): string {
  if (ev.name === 'api_call') {
    const fn = String(ev.fn);
    const params = f.api[fn] ?? [];
    const args: string[] = [];
    for (let k = 0; k < 6; k++) {
      const v = ev[`a${k}`];
      if (v !== undefined) args.push(apiArg(params[k] ?? `a${k}`, v));
    }
    return `${fn}(${args.join(', ')})`;
  }
  if (ev.name === 'api_return') {
    const ret = ev.ret;
    const shown =
      ret === undefined
        ? 'void'
        : typeof ret !== 'number'
          ? String(ret)
          : ret < 0
            ? signed(ret, f)
            : ret >= 0x10000
              ? hex(ret)
              : String(ret);
    return `${String(ev.fn)} → ${shown}`;
  }
  const fields = f.fields.get(ev.name);
  if (!fields) {
    // An event the schema does not know (it should): show what came, plainly.
    return Object.entries(ev)
      .filter(([k]) => k !== 'step' && k !== 'kind' && k !== 'name')
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
  }
  return fields.map((fd) => `${fd.name}=${value(fd.type, ev[fd.name] ?? 0, f)}`).join(' ');
}

/** Every trace event kind (SCRIPT-API.md "Trace"), in the order the filter shows them. */
export const TRACE_KINDS: readonly TraceEvent['kind'][] = [
  'call',
  'return',
  'pte',
  'tlb',
  'command',
  'virtio',
  'dma',
  'fault',
  'check',
];
