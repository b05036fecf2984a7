/**
 * The recorded calls of a run: every step's API name and arguments, with handles stored by their
 * stable keys. Replaying the log on a fresh lab rebuilds the state at any step without running the
 * script again (time travel).
 */
import { handleKey } from './handles.ts';

export type Encoded =
  | number
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | { $h: string }
  | { $e: number }
  | { $o: number }
  | Encoded[]
  | { [k: string]: Encoded };

export interface LoggedCall {
  readonly name: string;
  readonly args: readonly Encoded[];
}

export class CallLog {
  readonly calls: LoggedCall[] = [];
  private readonly tokens = new WeakMap<object, number>();
  private nextToken = 0;

  record(name: string, args: readonly unknown[], isErrPtr: (x: unknown) => boolean): void {
    this.calls.push({ name, args: args.map((a) => this.encode(a, isErrPtr, 0)) });
  }

  private encode(v: unknown, isErrPtr: (x: unknown) => boolean, depth: number): Encoded {
    if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v !== 'object') return String(v);
    const key = handleKey(v);
    if (key) return { $h: key };
    if (isErrPtr(v)) return { $e: (v as { __err_ptr: number }).__err_ptr };
    if (v instanceof Uint8Array) return v.slice();
    if (depth > 8) return null;
    if (Array.isArray(v)) return v.map((x) => this.encode(x, isErrPtr, depth + 1));
    if (Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, Encoded> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.encode(x, isErrPtr, depth + 1);
      return out;
    }
    // Any other object (a DMA owner cookie): known by identity only.
    let t = this.tokens.get(v);
    if (t === undefined) this.tokens.set(v, (t = this.nextToken++));
    return { $o: t };
  }
}

/**
 * Turn logged arguments back into values for a replay: handles and owner cookies (`o:<n>`) through
 * `resolve`, error pointers through `errPtr`.
 */
export function decodeArgs(
  args: readonly Encoded[],
  resolve: (key: string) => unknown,
  errPtr: (errno: number) => unknown,
): unknown[] {
  const decode = (v: Encoded): unknown => {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
    if (Array.isArray(v)) return v.map(decode);
    if ('$h' in v && typeof v.$h === 'string') return resolve(v.$h);
    if ('$e' in v && typeof v.$e === 'number') return errPtr(v.$e);
    if ('$o' in v && typeof v.$o === 'number') return resolve(`o:${v.$o}`);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = decode(x as Encoded);
    return out;
  };
  return args.map(decode);
}
