import { describe, expect, it } from 'vitest';
import { EngineHost, type HostSession, type RunFn } from './host.ts';
import {
  parseRequest,
  type EngineEvent,
  type EngineMessage,
  type Response,
  type Transport,
} from './protocol.ts';
import { runScriptWith, type LabModuleFactory } from '../script/runner.ts';

/** A small stand-in lab (the real one is exercised through the CLI tests): a trace of one event per call. */
const factory: LabModuleFactory<HostSession> = (opts) => {
  const events: { step: number; kind: 'call'; name: string }[] = [];
  class KernelVersionError extends Error {
    override name = 'KernelVersionError';
  }
  const session: HostSession = {
    get steps() {
      return events.length;
    },
    checks: () => [],
    trace: {
      get length() {
        return events.length;
      },
      query: (offset, limit, filter) => {
        const all = events
          .map((e, i) => ({ e, i }))
          .filter(({ e }) => !filter?.nameContains || e.name.includes(filter.nameContains));
        const page = all.slice(offset, offset + limit);
        return { total: all.length, indices: page.map((p) => p.i), events: page.map((p) => p.e) };
      },
    },
  };
  const exports = {
    call: (name: string) => {
      events.push({ step: events.length + 1, kind: 'call', name });
      return 0;
    },
    old_api: () => {
      if (opts.kernel === 'v6.16') throw new KernelVersionError('old_api was removed in v6.12');
      return 0;
    },
    lab: { params: Object.freeze({ ...opts.params }) },
  };
  return { exports, session };
};

const run: RunFn = (input) => runScriptWith(factory, input);

function setup(extra: Partial<ConstructorParameters<typeof EngineHost>[1]> = {}) {
  const out: EngineMessage[] = [];
  let deliver: (m: unknown) => void = () => {};
  const transport: Transport = {
    send: (m) => out.push(structuredClone(m)),
    onMessage: (cb) => (deliver = cb),
  };
  const logs: string[] = [];
  const host = new EngineHost(transport, { run, log: (m) => logs.push(m), ...extra });
  host.start();
  const request = async (msg: unknown): Promise<Response> => {
    deliver(msg);
    await host.idle();
    const id = (msg as { id?: unknown }).id;
    const res = out
      .filter((m): m is Response => m.type === 'response' && (m.id === id || m.id === -1))
      .at(-1);
    if (!res) throw new Error('no response');
    return res;
  };
  const events = (name?: string) =>
    out.filter((m): m is EngineEvent => m.type === 'event' && (!name || m.event === name));
  return { out, request, events, logs };
}

const file = (source: string) => ({ files: [{ name: 'main.ts', source }], entry: 'main.ts' });

describe('engine host', () => {
  it('says ready and answers ping', async () => {
    const h = setup();
    expect(h.events('ready')).toEqual([{ type: 'event', event: 'ready', version: 1 }]);
    expect(await h.request({ type: 'ping', id: 1 })).toEqual({
      type: 'response',
      id: 1,
      ok: true,
      result: { pong: true, version: 1 },
    });
  });

  it('refuses malformed and unknown messages and lives on', async () => {
    const h = setup();
    expect(await h.request('hello')).toMatchObject({ id: -1, ok: false, error: { code: 'bad-request' } });
    expect(await h.request({ type: 'launch', id: 2 })).toMatchObject({
      id: 2,
      ok: false,
      error: { code: 'unknown-request' },
    });
    expect(await h.request({ type: 'run', id: 3, files: [], entry: 'x' })).toMatchObject({
      id: 3,
      ok: false,
      error: { code: 'bad-request', message: expect.stringMatching(/files/) },
    });
    expect(
      await h.request({ type: 'query', id: 4, query: { what: 'trace', offset: -1, limit: 5 } }),
    ).toMatchObject({ ok: false });
    expect(h.logs.length).toBe(4);
    expect(await h.request({ type: 'ping', id: 5 })).toMatchObject({ ok: true });
  });

  it('runs a script: run-started, console, run-finished, then the response', async () => {
    const h = setup();
    const res = await h.request({
      type: 'run',
      id: 7,
      ...file(
        `import { call, expect } from 'iommu-lab';\nconsole.log('hi');\ncall('iommu_map');\nexpect(1).toBe(1);\n`,
      ),
    });
    expect(res).toMatchObject({
      ok: true,
      result: { status: 'passed', steps: 1, expectations: { passed: 1, failed: 0 } },
    });
    expect((res as { result: object }).result).not.toHaveProperty('session');
    const kinds = h.out.filter((m) => m.type === 'event').map((m) => (m as EngineEvent).event);
    expect(kinds).toEqual(['ready', 'run-started', 'console', 'run-finished']);
    expect(h.events('console')[0]).toMatchObject({
      runId: 7,
      lines: [{ level: 'log', text: 'hi', line: 2 }],
    });
    expect(h.events('run-finished')[0]).toMatchObject({ runId: 7, result: { status: 'passed' } });
  });

  it('a run to a step is a rebuild after Stop: its run-started and progress events say so', async () => {
    const h = setup();
    const source = [
      "import { call } from 'iommu-lab';",
      '// Long enough for a progress report (every 100 ms) before the first step.',
      'let x = 0;',
      'for (let i = 0; i < 1e7; i++) x += i;',
      "for (let i = 0; i < 10; i++) call('iommu_map');",
      '',
    ].join('\n');
    await h.request({ type: 'run', id: 1, ...file(source) });
    expect(h.events('run-started')[0]).not.toHaveProperty('rebuildingTo');
    expect(h.events('progress').length).toBeGreaterThan(0);
    for (const e of h.events('progress')) expect(e).not.toHaveProperty('rebuildingTo');

    const res = await h.request({ type: 'run', id: 2, ...file(source), stopAfterSteps: 4 });
    expect(res).toMatchObject({ ok: true, result: { steps: 4, stopped: true } });
    expect(h.events('run-started')[1]).toMatchObject({ runId: 2, rebuildingTo: 4 });
    const rebuilding = h.events('progress').filter((e) => e.event === 'progress' && e.runId === 2);
    expect(rebuilding.length).toBeGreaterThan(0);
    for (const e of rebuilding) expect(e).toMatchObject({ rebuildingTo: 4 });
  });

  it('batches console lines', async () => {
    const h = setup({ consoleBatch: 10, consoleFlushMs: 1e9 });
    await h.request({ type: 'run', id: 1, ...file(`for (let i = 0; i < 25; i++) console.log(i);\n`) });
    expect(h.events('console').map((e) => (e as { lines: unknown[] }).lines.length)).toEqual([10, 10, 5]);
  });

  it('answers queries about the last run', async () => {
    const h = setup();
    expect(await h.request({ type: 'query', id: 1, query: { what: 'summary' } })).toMatchObject({
      ok: true,
      result: { hasRun: false },
    });
    expect(await h.request({ type: 'query', id: 2, query: { what: 'checks' } })).toMatchObject({
      ok: false,
      error: { code: 'no-session' },
    });
    await h.request({
      type: 'run',
      id: 3,
      ...file(
        `import { call } from 'iommu-lab';\ncall('a_map'); call('b_unmap'); call('c_map');\nconsole.log('x');\n`,
      ),
    });
    expect(await h.request({ type: 'query', id: 4, query: { what: 'summary' } })).toMatchObject({
      result: { hasRun: true, steps: 3, traceLength: 3, status: 'passed', currentStep: 3 },
    });
    expect(
      await h.request({
        type: 'query',
        id: 5,
        query: { what: 'trace', offset: 1, limit: 5, filter: { nameContains: 'map' } },
      }),
    ).toMatchObject({
      result: { offset: 1, total: 3, indices: [1, 2], events: [{ name: 'b_unmap' }, { name: 'c_map' }] },
    });
    expect(
      await h.request({ type: 'query', id: 6, query: { what: 'console', offset: 0, limit: 10 } }),
    ).toMatchObject({ result: { total: 1, lines: [{ text: 'x' }] } });
    expect(
      await h.request({ type: 'query', id: 7, query: { what: 'state', panel: 'domains' } }),
    ).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    expect(await h.request({ type: 'seek', id: 8, step: 1 })).toMatchObject({
      ok: false,
      error: { code: 'unsupported' },
    });
  });

  it('runs a matrix in turn, cell by cell', async () => {
    const h = setup();
    const res = await h.request({
      type: 'matrix',
      id: 9,
      ...file(
        `import { lab, old_api, expect } from 'iommu-lab';\nold_api();\nexpect(lab.params.driver).not.toBe('amd-iommu');\n`,
      ),
      drivers: ['arm-smmu-v3', 'amd-iommu'],
      kernels: ['v6.6', 'v6.16'],
    });
    expect(res).toMatchObject({
      ok: true,
      result: {
        drivers: ['arm-smmu-v3', 'amd-iommu'],
        kernels: ['v6.6', 'v6.16'],
        allPassed: false,
        cells: [
          { driver: 'arm-smmu-v3', kernel: 'v6.6', status: 'passed' },
          { driver: 'arm-smmu-v3', kernel: 'v6.16', status: 'n/a', detail: 'old_api was removed in v6.12' },
          {
            driver: 'amd-iommu',
            kernel: 'v6.6',
            status: 'failed',
            detail: 'expected a value other than "amd-iommu"',
            line: 3,
          },
          { driver: 'amd-iommu', kernel: 'v6.16', status: 'n/a' },
        ],
      },
    });
    expect(h.events('matrix-cell').map((e) => (e as { done: number }).done)).toEqual([1, 2, 3, 4]);
  });
});

describe('parseRequest', () => {
  it('accepts well-formed requests', () => {
    expect(
      parseRequest({
        type: 'run',
        id: 1,
        files: [{ name: 'a.ts', source: '' }],
        entry: 'a.ts',
        kernel: 'v6.6',
        params: { driver: 'x' },
        timeoutMs: 100,
      }).ok,
    ).toBe(true);
    expect(
      parseRequest({
        type: 'query',
        id: 1,
        query: { what: 'trace', offset: 0, limit: 10, filter: { kinds: ['call'], fields: { domain: 1 } } },
      }).ok,
    ).toBe(true);
    expect(
      parseRequest({
        type: 'query',
        id: 1,
        query: { what: 'trace', offset: 0, limit: 10, filter: { fieldsContain: { device: 'nic' } } },
      }).ok,
    ).toBe(true);
    expect(parseRequest({ type: 'seek', id: 1, step: 0 }).ok).toBe(true);
  });
  it('refuses bad fields with a reason', () => {
    const bad = [
      { type: 'run', id: 1, files: [{ name: 'a.ts' }], entry: 'a.ts' },
      { type: 'run', id: 1, files: [{ name: 'a.ts', source: '' }], entry: 'b.ts' },
      { type: 'run', id: 1, files: [{ name: 'a.ts', source: '' }], entry: 'a.ts', params: { n: 1 } },
      { type: 'run', id: 1, files: [{ name: 'a.ts', source: '' }], entry: 'a.ts', timeoutMs: 0 },
      { type: 'matrix', id: 1, files: [{ name: 'a.ts', source: '' }], entry: 'a.ts', drivers: 'x' },
      { type: 'query', id: 1, query: { what: 'nope' } },
      { type: 'query', id: 1, query: { what: 'trace', offset: 0, limit: 1, filter: { fields: { a: {} } } } },
      {
        type: 'query',
        id: 1,
        query: { what: 'trace', offset: 0, limit: 1, filter: { fieldsContain: { a: 1 } } },
      },
      {
        type: 'query',
        id: 1,
        query: { what: 'trace', offset: 0, limit: 1, filter: { fieldsContain: 'nic' } },
      },
      { type: 'seek', id: 1, step: -1 },
      { type: 'ping', id: 1.5 },
    ];
    for (const m of bad) expect(parseRequest(m), JSON.stringify(m)).toMatchObject({ ok: false });
  });
});

describe('transport failures', () => {
  it('a result that cannot be sent is answered with an error', async () => {
    const out: EngineMessage[] = [];
    let deliver: (m: unknown) => void = () => {};
    const transport: Transport = {
      send: (m) => {
        if (m.type === 'response' && m.ok && m.id === 2) throw new Error('DataCloneError');
        out.push(m);
      },
      onMessage: (cb) => (deliver = cb),
    };
    const host = new EngineHost(transport, { run });
    host.start();
    deliver({ type: 'ping', id: 2 });
    await host.idle();
    expect(out.at(-1)).toMatchObject({
      type: 'response',
      id: 2,
      ok: false,
      error: { code: 'failed', message: expect.stringMatching(/DataCloneError/) },
    });
  });
});
