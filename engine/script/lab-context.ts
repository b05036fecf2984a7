/**
 * One lab as scripts drive it: the machine, the handle table, the call log and the step counter.
 * Every API function a script can reach goes through `invoke`, which makes it a step: numbered,
 * traced as a call and a return, and recorded for replay. Calls the engine makes from inside a
 * step (an op calling another op) are not steps of their own.
 */
import { Device } from '../core/device.ts';
import { IommuDomain } from '../core/domain.ts';
import { IommuIotlbGather } from '../core/gather.ts';
import { IommuGroup } from '../core/group.ts';
import { IommuDevice } from '../core/iommu-device.ts';
import { Machine } from '../core/machine.ts';
import { KernelProfile, type KernelName } from '../core/kernel-profile.ts';
import { CALL_KINDS, NAMES, V_NONE, V_NUMBERED, V_TEXT } from '../trace/format.ts';
import { Trace, TraceDivergenceError } from '../trace/trace.ts';
import { CallLog, type ArgResolver } from './call-log.ts';
import type { CallResultLog } from './call-results.ts';
import { HandleTable } from './handles.ts';
import { ev } from './trace-events.ts';
import { API_ARITY, API_COOKIES, API_ENTRIES, API_NAMES, MAX_API_ARGS, apiId } from './api.ts';
import { NUMBERED, argText, handleText } from './arg-text.ts';
import { describe } from './args.ts';
import { RunEndedError } from './guard.ts';

export interface LabOptions {
  kernel: KernelName;
  seed: number;
  params: Readonly<Record<string, string>>;
  fixedKernel: boolean;
  disabledChecks: readonly string[];
}

/** The kinds of a call event whose entry takes `n` arguments, before any is looked at: nothing past `n`. */
const NONE_FROM = Array.from({ length: MAX_API_ARGS + 1 }, (_, n) => {
  let kinds = 0;
  for (let k = n; k < ev.api_call.fields.length - 1; k++) kinds |= V_NONE << (2 * k);
  return kinds;
});

export class LabContext implements ArgResolver {
  machine: Machine;
  readonly handles: HandleTable;
  /** Steps so far (the step being executed while inside one). */
  steps = 0;
  /** Before a call past this many steps, `atStepLimit` runs (and throws): see LabSession.setStepLimit. */
  stepLimit = Infinity;
  atStepLimit: (() => void) | undefined;
  /** Set when the run has ended: a call from script code still running (after an await) throws. */
  scriptEnded = false;
  /** Told what each call the script makes returns, when set (a matrix cell: the cells are compared). */
  results: CallResultLog | null = null;
  /**
   * The API entry being called, from the reading of its arguments to its return, or -1. Script code
   * that runs meanwhile (a getter, a Proxy, a conversion in an argument) may not call the API: the
   * nested call would be a step inside a step, or a change no step records.
   */
  private running = -1;
  /** null while replaying: a replay reads a log, it does not write one. */
  readonly log: CallLog | null;
  /** Each API entry's name interned in the trace (-1 until its first step), as the call event's `fn`. */
  private readonly fnStr = new Int32Array(API_ENTRIES.length).fill(-1);
  /**
   * Per handle slot, once it was an argument or a result: its numbered name + 1 (`domain 2`), or
   * −(its text's id + 1). A typed array: a store into a plain array made after lockdown takes V8's
   * slow path (warm-up.ts).
   */
  private handleVal = new Float64Array(64);
  /** The kinds of the call or return event being made (format.ts CALL_KINDS), set by traceArg. */
  private kinds = 0;
  /** While replaying: the handle each slot of the recording lab stands for here, once found. */
  private readonly replayed: unknown[] = [];
  private readonly replayArgs: unknown[] = new Array(MAX_API_ARGS).fill(undefined);

  /**
   * A lab over `machine` (a fresh one when not given). Replays pass the machine they rebuild and
   * the step it is at; only the script's own lab records a log.
   */
  constructor(
    readonly options: LabOptions,
    trace: Trace,
    record: boolean,
    machine?: Machine,
    steps = 0,
  ) {
    this.machine = machine ?? LabContext.newMachine(options, trace);
    this.steps = steps;
    this.handles = new HandleTable((id, a0, a1, a2, a3, a4, a5) => this.call(id, a0, a1, a2, a3, a4, a5));
    this.log = record ? new CallLog(this.handles) : null;
    // Numbered names go among the first strings (format.ts NAMES): a new lab's trace has few yet.
    for (const name of Object.values(NUMBERED)) this.machine.trace.str(name);
  }

  static newMachine(options: LabOptions, trace: Trace): Machine {
    const m = new Machine(options.kernel, trace);
    m.seed(options.seed);
    for (const id of options.disabledChecks) m.disabled_checks.add(id as never);
    return m;
  }

  /** lab.kernel(name) before any hardware: the machine takes that era's profile. */
  switchKernel(kernel: KernelName): void {
    this.machine.profile = new KernelProfile(kernel);
  }

  get trace(): Trace {
    return this.machine.trace;
  }

  /** The function a script calls for API entry `name` (no array per call: six positional arguments). */
  fn(name: string): (...args: unknown[]) => unknown {
    const id = apiId(name);
    return (a0?: unknown, a1?: unknown, a2?: unknown, a3?: unknown, a4?: unknown, a5?: unknown) =>
      this.call(id, a0, a1, a2, a3, a4, a5);
  }

  invoke(name: string, args: readonly unknown[]): unknown {
    return this.call(apiId(name), args[0], args[1], args[2], args[3], args[4], args[5]);
  }

  /**
   * API entry `id` as a step: recorded in the call log, traced as a call and a return. No entry
   * reads more than six arguments (MAX_API_ARGS); the call event shows the first five.
   */
  call(
    id: number,
    a0?: unknown,
    a1?: unknown,
    a2?: unknown,
    a3?: unknown,
    a4?: unknown,
    a5?: unknown,
  ): unknown {
    if (this.scriptEnded && this.log !== null) throw new RunEndedError(`${API_NAMES[id]} was called`);
    if (this.running >= 0) throw nestedCall(id, this.running);
    this.running = id;
    try {
      const entry = API_ENTRIES[id];
      if (!entry.query) return this.step(id, a0, a1, a2, a3, a4, a5);
      if (this.results === null) return entry.impl(this, a0, a1, a2, a3, a4, a5);
      return this.recordedQuery(id, a0, a1, a2, a3, a4, a5);
    } finally {
      this.running = -1;
    }
  }

  /** A call that changes the lab: a step, logged and traced. */
  private step(
    id: number,
    a0: unknown,
    a1: unknown,
    a2: unknown,
    a3: unknown,
    a4: unknown,
    a5: unknown,
  ): unknown {
    if (this.steps >= this.stepLimit) this.atStepLimit!();
    if (this.log !== null) this.log.record(id, a0, a1, a2, a3, a4, a5);
    const t = this.machine.trace;
    t.step = ++this.steps;
    let fn = this.fnStr[id];
    if (fn < 0) this.fnStr[id] = fn = t.str(API_NAMES[id]);
    // Arguments past the entry's own are not the call's (the log keeps none, a replay passes none):
    // the kinds start with them as nothing.
    const n = API_ARITY[id];
    this.kinds = NONE_FROM[n];
    const v0 = this.arg(a0, 0, n, id);
    const v1 = this.arg(a1, 1, n, id);
    const v2 = this.arg(a2, 2, n, id);
    const v3 = this.arg(a3, 3, n, id);
    const v4 = this.arg(a4, 4, n, id);
    const v5 = this.arg(a5, 5, n, id);
    t.emit(ev.api_call, fn * CALL_KINDS + this.kinds, v0, v1, v2, v3, v4, v5);
    let ret: unknown;
    try {
      ret = API_ENTRIES[id].impl(this, a0, a1, a2, a3, a4, a5);
    } catch (e) {
      if (this.results !== null) this.results.threw(this.steps, id, e);
      throw e;
    }
    this.kinds = 0;
    const r = typeof ret === 'number' && Number.isFinite(ret) ? ret : this.traceArg(ret, 0, 0);
    t.emit(ev.api_return, fn * CALL_KINDS + this.kinds, r);
    if (this.results !== null) this.results.returned(this.steps, id, ret, a0, a1, a2);
    return ret;
  }

  /** A query the script made while its results are recorded: not a step, but a result to compare. */
  private recordedQuery(
    id: number,
    a0: unknown,
    a1: unknown,
    a2: unknown,
    a3: unknown,
    a4: unknown,
    a5: unknown,
  ): unknown {
    let ret: unknown;
    try {
      ret = API_ENTRIES[id].impl(this, a0, a1, a2, a3, a4, a5);
    } catch (e) {
      this.results!.threw(this.steps, id, e);
      throw e;
    }
    this.results!.returned(this.steps, id, ret);
    return ret;
  }

  /** Run logged steps [from, to) again on this lab (which must be at step `from`). */
  replay(log: CallLog, from: number, to: number): void {
    const a = this.replayArgs;
    const end = Math.min(to, log.length);
    for (let i = from; i < end; i++) {
      const id = log.read(i, a, this);
      try {
        this.call(id, a[0], a[1], a[2], a[3], a[4], a[5]);
      } catch (e) {
        // A replay that no longer matches the recorded events is a bug to report, not to hide.
        if (e instanceof TraceDivergenceError) throw e;
        // Otherwise the original call threw too (bad arguments, a kernel-version error): same state.
      }
    }
  }

  /** ArgResolver: the recording lab's handle in `slot`, here. Found objects never change, so they are kept. */
  slot(slot: number, key: string): unknown {
    let h = this.replayed[slot];
    if (h === undefined || h === null) {
      h = this.key(key);
      if (h !== null && h !== undefined) this.replayed[slot] = h;
    }
    return h;
  }

  /** ArgResolver: the handle (or error pointer, or owner cookie) a logged key names, in this lab's machine. */
  key(key: string): unknown {
    const m = this.machine;
    const kind = key[0];
    const id = key.slice(2);
    switch (kind) {
      case 'd':
        return this.handles.domain(m.domain_by_id.get(Number(id)) ?? null);
      case 'v':
        return this.handles.device(m.devices.find((d) => d.name === id) ?? null);
      case 'g':
        return this.handles.group(m.groups.find((g) => g.id === Number(id)) ?? null);
      case 'i':
        return this.handles.iommu(m.iommus.find((i) => i.name === id) ?? null);
      case 't': {
        const g = m.script_objects.get(key);
        return g ? this.handles.gather(g as IommuIotlbGather, Number(id)) : null;
      }
      case 'b':
        return this.handles.bus(id as 'pci' | 'platform');
      case 'e':
        return this.handles.errPtr(Number(id));
      case 'o': {
        let token = m.script_objects.get(key);
        if (!token) m.script_objects.set(key, (token = {}));
        return token;
      }
      default:
        return undefined;
    }
  }

  /** What the trace keeps for argument `k` of an entry that takes `n`: finite numbers as they are. */
  private arg(v: unknown, k: number, n: number, id: number): number {
    if (k >= n) return 0;
    return typeof v === 'number' && Number.isFinite(v) ? v : this.traceArg(v, k, API_COOKIES[id]);
  }

  /**
   * What the trace keeps for argument (or result) `k` when it is not a finite number: nothing for
   * undefined, a handle's numbered name, else its text (arg-text.ts) in the string table; the kind
   * goes into `kinds`. An owner cookie (`cookies` bit k) shows no contents: a replay passes a
   * stand-in for it (call-log.ts).
   */
  private traceArg(v: unknown, k: number, cookies: number): number {
    if (v === undefined) {
      this.kinds |= V_NONE << (2 * k);
      return 0;
    }
    const slot = this.handles.slotOf(v);
    if (slot >= 0) {
      // A script passes the same domain or device call after call: what stands for it is made once.
      if (slot >= this.handleVal.length) {
        const more = new Float64Array(2 * slot);
        more.set(this.handleVal);
        this.handleVal = more;
      }
      let c = this.handleVal[slot];
      if (c === 0) this.handleVal[slot] = c = this.handleCode(v, slot);
      this.kinds |= (c > 0 ? V_NUMBERED : V_TEXT) << (2 * k);
      return c > 0 ? c - 1 : -c - 1;
    }
    this.kinds |= V_TEXT << (2 * k);
    const t = this.machine.trace;
    if ((cookies >>> k) & 1 && (typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol'))
      return t.str('{…}');
    return t.str(argText(v, this.handles));
  }

  /** For handleVal: a numbered name + 1 (`number × NAMES + name`), else −(the text's id + 1). */
  private handleCode(v: unknown, slot: number): number {
    const t = this.machine.trace;
    const key = this.handles.keyOf(slot);
    const name = NUMBERED[key[0]];
    const id = name === undefined ? NAMES : t.str(name);
    return id < NAMES ? Number(key.slice(2)) * NAMES + id + 1 : -t.str(argText(v, this.handles)) - 1;
  }

  // ── typed access to what a handle stands for; errors name the argument ──

  /** What a script passed where another kind of handle belongs: a handle by name (`device nic0`). */
  private got(v: unknown): string {
    return handleText(v, this.handles) ?? describe(v);
  }

  domain(v: unknown, arg = 'domain'): IommuDomain {
    const x = this.handles.internal(v);
    if (x instanceof IommuDomain) {
      // In Linux the memory is gone: whatever happened next would be a use-after-free.
      if (x.freed)
        throw new Error(
          `${arg}: domain ${x.id} was freed (iommu_domain_free or domain.ops.free) and cannot be used again`,
        );
      return x;
    }
    throw new TypeError(
      `${arg} must be an IommuDomain (got ${this.handles.isErrPtr(v) ? 'an error pointer: check IS_ERR() first' : this.got(v)})`,
    );
  }

  device(v: unknown, arg = 'dev'): Device {
    const x = this.handles.internal(v);
    if (x instanceof Device) return x;
    throw new TypeError(`${arg} must be a Device from lab.add_device (got ${this.got(v)})`);
  }

  group(v: unknown, arg = 'group'): IommuGroup {
    const x = this.handles.internal(v);
    if (x instanceof IommuGroup) return x;
    throw new TypeError(`${arg} must be an IommuGroup from iommu_group_get (got ${this.got(v)})`);
  }

  iommu(v: unknown, arg = 'iommu'): IommuDevice {
    const x = this.handles.internal(v);
    if (x instanceof IommuDevice) return x;
    throw new TypeError(`${arg} must be an Iommu from lab.add_iommu (got ${this.got(v)})`);
  }

  gather(v: unknown, arg = 'gather'): IommuIotlbGather {
    const x = this.handles.internal(v);
    if (x instanceof IommuIotlbGather) return x;
    throw new TypeError(`${arg} must come from iommu_iotlb_gather_init() (got ${this.got(v)})`);
  }
}

/** The error of an API call made by script code that runs inside another call (a getter in its arguments). */
function nestedCall(id: number, running: number): Error {
  return new Error(
    `${API_NAMES[id]} was called while ${API_NAMES[running]} was reading its arguments (from a getter, a Proxy ` +
      'or a conversion in them): API calls cannot nest, as each call is one step; pass plain values',
  );
}
