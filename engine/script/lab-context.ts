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
import { Trace, TraceDivergenceError } from '../trace/trace.ts';
import { CallLog, decodeArgs, type LoggedCall } from './call-log.ts';
import { HandleTable, handleKey } from './handles.ts';
import { ev } from './trace-events.ts';
import { API } from './api.ts';
import { describe } from './args.ts';

export interface LabOptions {
  kernel: KernelName;
  seed: number;
  params: Readonly<Record<string, string>>;
  fixedKernel: boolean;
  disabledChecks: readonly string[];
}

export class LabContext {
  machine: Machine;
  readonly handles: HandleTable;
  /** Steps so far (the step being executed while inside one). */
  steps = 0;
  private depth = 0;
  /** null while replaying: a replay reads a log, it does not write one. */
  readonly log: CallLog | null;
  private readonly fnIds = new Map<string, number>();

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
    this.handles = new HandleTable((name, args) => this.invoke(name, args));
    this.log = record ? new CallLog() : null;
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

  invoke(name: string, args: unknown[]): unknown {
    const entry = API[name];
    if (!entry) throw new Error(`internal: no API entry '${name}'`);
    if (entry.query || this.depth > 0) return entry.impl(this, ...args);
    this.log?.record(name, args, (x) => this.handles.isErrPtr(x));
    const t = this.machine.trace;
    t.step = ++this.steps;
    let fn = this.fnIds.get(name);
    if (fn === undefined) this.fnIds.set(name, (fn = t.str(name)));
    t.emit(ev.api_call, fn, traceArg(args[0]), traceArg(args[1]), traceArg(args[2]), traceArg(args[3]), traceArg(args[4]));
    this.depth++;
    let ret: unknown;
    try {
      ret = entry.impl(this, ...args);
    } finally {
      this.depth--;
    }
    t.emit(ev.api_return, fn, traceRet(ret));
    return ret;
  }

  /** Run logged calls [from, to) again on this lab (which must be at step `from`). */
  replay(calls: readonly LoggedCall[], from: number, to: number): void {
    for (let i = from; i < to && i < calls.length; i++) {
      const c = calls[i];
      const args = decodeArgs(
        c.args,
        (key) => this.resolve(key),
        (e) => this.handles.errPtr(e),
      );
      try {
        this.invoke(c.name, args);
      } catch (e) {
        // A replay that no longer matches the recorded events is a bug to report, not to hide.
        if (e instanceof TraceDivergenceError) throw e;
        // Otherwise the original call threw too (bad arguments, a kernel-version error): same state.
      }
    }
  }

  /** The handle a logged key names, looked up in this lab's machine. */
  private resolve(key: string): unknown {
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
      case 'o': {
        let token = m.script_objects.get(key);
        if (!token) m.script_objects.set(key, (token = {}));
        return token;
      }
      default:
        return undefined;
    }
  }

  // ── typed access to what a handle stands for; errors name the argument ──

  domain(v: unknown, arg = 'domain'): IommuDomain {
    const x = this.handles.internal(v);
    if (x instanceof IommuDomain) return x;
    throw new TypeError(`${arg} must be an IommuDomain (got ${this.handles.isErrPtr(v) ? 'an error pointer: check IS_ERR() first' : describe(v)})`);
  }

  device(v: unknown, arg = 'dev'): Device {
    const x = this.handles.internal(v);
    if (x instanceof Device) return x;
    throw new TypeError(`${arg} must be a Device from lab.add_device (got ${describe(v)})`);
  }

  group(v: unknown, arg = 'group'): IommuGroup {
    const x = this.handles.internal(v);
    if (x instanceof IommuGroup) return x;
    throw new TypeError(`${arg} must be an IommuGroup from iommu_group_get (got ${describe(v)})`);
  }

  iommu(v: unknown, arg = 'iommu'): IommuDevice {
    const x = this.handles.internal(v);
    if (x instanceof IommuDevice) return x;
    throw new TypeError(`${arg} must be an Iommu from lab.add_iommu (got ${describe(v)})`);
  }

  gather(v: unknown, arg = 'gather'): IommuIotlbGather {
    const x = this.handles.internal(v);
    if (x instanceof IommuIotlbGather) return x;
    throw new TypeError(`${arg} must come from iommu_iotlb_gather_init() (got ${describe(v)})`);
  }
}

/** A number that stands for an argument in the trace. */
function traceArg(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (Array.isArray(v) || v instanceof Uint8Array) return v.length;
  if (typeof v === 'object' && v !== null) {
    const key = handleKey(v);
    if (key && /^[dgt]:/.test(key)) return Number(key.slice(2));
  }
  return 0;
}

function traceRet(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : 0;
  if (typeof v === 'object' && v !== null) {
    const e = (v as { __err_ptr?: number }).__err_ptr;
    if (typeof e === 'number') return e;
    return traceArg(v);
  }
  return 0;
}
