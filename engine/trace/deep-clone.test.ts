import { describe, expect, it } from 'vitest';
import { STATIC, deepClone, estimateBytes } from './deep-clone.ts';
import { Trace } from './trace.ts';

const ops = Object.freeze({
  name: 'arm-lpae',
  map: (pt: PageTable, i: number, v: number) => {
    pt.entries[i] = v;
  },
});

class PageTable {
  readonly entries = new Uint32Array(512);
  ops = ops;
  writes = 0;
  set(i: number, v: number): void {
    this.ops.map(this, i, v);
    this.writes++;
  }
}

class Group {
  devices: Device[] = [];
  constructor(public id: number) {}
}

class Device {
  domain: Domain | undefined;
  constructor(
    public name: string,
    public group: Group,
  ) {
    group.devices.push(this);
  }
}

class Domain {
  readonly pt = new PageTable();
  readonly devices = new Set<Device>();
  readonly mappings = new Map<number, { iova: number; size: number }>();
  created = new Date(0);
  get mappingCount(): number {
    return this.mappings.size;
  }
  attach(d: Device): void {
    this.devices.add(d);
    d.domain = this;
  }
}

class Machine {
  group = new Group(1);
  a = new Device('a', this.group);
  b = new Device('b', this.group);
  domain = new Domain();
  buffer = new ArrayBuffer(64);
  lo = new Uint8Array(this.buffer, 0, 32);
  hi = new Uint32Array(this.buffer, 32, 8);
  trace = new Trace();
}

function machine(): Machine {
  const m = new Machine();
  m.domain.attach(m.a);
  m.domain.attach(m.b);
  m.domain.mappings.set(0x1000, { iova: 0x1000, size: 0x1000 });
  m.domain.pt.set(3, 0xabc);
  return m;
}

describe('deepClone', () => {
  it('copies a cyclic graph of class instances whose methods keep working', () => {
    const m = machine();
    const c = deepClone(m);
    expect(c).not.toBe(m);
    expect(c).toBeInstanceOf(Machine);
    expect(c.domain).toBeInstanceOf(Domain);
    expect(c.a.domain).toBe(c.domain);
    expect(c.group.devices).toEqual([c.a, c.b]);
    expect(c.group.devices[0]).toBe(c.a);
    expect([...c.domain.devices]).toEqual([c.a, c.b]);
    expect([...c.domain.devices][0]).toBe(c.a);
    expect(c.domain.mappingCount).toBe(1);
    c.domain.pt.set(4, 0xdef);
    expect(c.domain.pt.entries[4]).toBe(0xdef);
    expect(c.domain.pt.writes).toBe(2);
    expect(c.domain.created.getTime()).toBe(0);
    expect(c.domain.created).not.toBe(m.domain.created);
  });

  it('makes later mutation of either side invisible to the other', () => {
    const m = machine();
    const c = deepClone(m);
    c.domain.pt.set(3, 1);
    c.domain.mappings.get(0x1000)!.size = 0x2000;
    c.domain.mappings.set(0x5000, { iova: 0x5000, size: 0x1000 });
    c.group.devices.pop();
    c.lo[0] = 9;
    m.hi[0] = 7;
    expect(m.domain.pt.entries[3]).toBe(0xabc);
    expect(m.domain.pt.writes).toBe(1);
    expect(m.domain.mappings.get(0x1000)!.size).toBe(0x1000);
    expect(m.domain.mappingCount).toBe(1);
    expect(m.group.devices).toHaveLength(2);
    expect(m.lo[0]).toBe(0);
    expect(c.hi[0]).toBe(0);
  });

  it('keeps views on one buffer on one (new) buffer', () => {
    const m = machine();
    const c = deepClone(m);
    expect(c.lo.buffer).toBe(c.buffer);
    expect(c.hi.buffer).toBe(c.buffer);
    expect(c.buffer).not.toBe(m.buffer);
    c.hi[0] = 0x01020304;
    expect(new Uint8Array(c.buffer)[32]).toBe(new Uint8Array(new Uint32Array([0x01020304]).buffer)[0]);
    expect(c.hi.byteOffset).toBe(32);
    expect(c.hi.length).toBe(8);
  });

  it('shares frozen objects, functions, STATIC objects and the trace', () => {
    const m = machine();
    const marked = { [STATIC]: true as const, table: [1, 2, 3] };
    const holder = { m, marked, fn: () => 1 };
    const c = deepClone(holder);
    expect(c.m.domain.pt.ops).toBe(ops);
    expect(c.fn).toBe(holder.fn);
    expect(c.marked).toBe(marked);
    expect(c.m.trace).toBe(m.trace);
  });

  it('shares what skip says to share', () => {
    const big = { data: new Float64Array(8) };
    const c = deepClone({ big, small: { x: 1 } }, (key) => key === 'big');
    expect(c.big).toBe(big);
  });

  it('copies Map keys, symbol keys, accessors, read-only and sealed properties, subclass prototypes', () => {
    class Registry extends Map<object, number> {
      label = 'r';
    }
    const key = { k: 1 };
    const sym = Symbol('s');
    const r = new Registry([[key, 5]]);
    const o: Record<PropertyKey, unknown> = { key, r, [sym]: { deep: true } };
    Object.defineProperty(o, 'fixed', { value: { n: 1 }, writable: false, enumerable: false });
    Object.defineProperty(o, 'double', { get: () => 2, enumerable: true });
    const sealed = Object.seal({ v: 1 });
    o.sealed = sealed;
    const c = deepClone(o);
    const cr = c.r as Registry;
    expect(cr).toBeInstanceOf(Registry);
    expect(cr.label).toBe('r');
    expect(cr.get(c.key as object)).toBe(5);
    expect(cr.get(key)).toBeUndefined();
    expect(c[sym]).toEqual({ deep: true });
    expect(c[sym]).not.toBe(o[sym]);
    const fixed = Object.getOwnPropertyDescriptor(c, 'fixed')!;
    expect(fixed.writable).toBe(false);
    expect(fixed.value).toEqual({ n: 1 });
    expect(fixed.value).not.toBe(o.fixed);
    expect(c.double).toBe(2);
    expect(Object.isSealed(c.sealed)).toBe(true);
    expect(c.sealed).not.toBe(sealed);
  });

  it('handles long chains without running out of stack', () => {
    type Node = { next: Node | undefined; v: number };
    let head: Node | undefined;
    for (let i = 0; i < 200_000; i++) head = { next: head, v: i };
    const c = deepClone(head)!;
    let n = 0;
    for (let p: Node | undefined = c; p; p = p.next) n++;
    expect(n).toBe(200_000);
    expect(c.v).toBe(199_999);
  });

  it('refuses what it cannot copy', () => {
    expect(() => deepClone({ w: new WeakMap() })).toThrow(/WeakMap/);
  });
});

describe('estimateBytes', () => {
  it('counts typed-array buffers once and skips shared objects', () => {
    const buf = new ArrayBuffer(1 << 20);
    const a = { x: new Uint8Array(buf), y: new Uint32Array(buf), ops };
    const n = estimateBytes(a);
    expect(n).toBeGreaterThanOrEqual(1 << 20);
    expect(n).toBeLessThan((1 << 20) + 1024);
  });
});
