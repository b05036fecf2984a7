/**
 * The Trace panel's host queries against the real lab: the schema that names fields and API
 * arguments, and the CSV export a window at a time.
 */
import { describe, expect, it } from 'vitest';
import { EngineHost } from './host.ts';
import type { EngineMessage, Response, TraceCsvWindow, TraceSchema, Transport } from './protocol.ts';
import { runScript } from '../script/run-script.ts';

function setup() {
  const out: EngineMessage[] = [];
  let deliver: (m: unknown) => void = () => {};
  const transport: Transport = {
    send: (m) => out.push(structuredClone(m)),
    onMessage: (cb) => (deliver = cb),
  };
  const host = new EngineHost(transport, { run: runScript });
  host.start();
  let nextId = 1;
  const request = async (body: object): Promise<Response> => {
    const id = nextId++;
    deliver({ ...body, id });
    await host.idle();
    return out.filter((m): m is Response => m.type === 'response' && m.id === id).at(-1)!;
  };
  const query = async <T>(query: object): Promise<T> => {
    const r = await request({ type: 'query', query });
    if (!r.ok) throw new Error(r.error.message);
    return r.result as T;
  };
  return { request, query };
}

const SCRIPT = `
import { lab, iommu_paging_domain_alloc, iommu_map, iommu_unmap, IOMMU_READ, SZ_4K } from 'iommu-lab';
const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
const dev = lab.add_device('dev0', { iommu: smmu });
const d = iommu_paging_domain_alloc(dev);
for (let i = 0; i < 40; i++) iommu_map(d, 0x10000 + i * SZ_4K, 0x8000_0000 + i * SZ_4K, SZ_4K, IOMMU_READ);
iommu_unmap(d, 0x10000, SZ_4K);
`;

describe('trace-schema', () => {
  it('lists every event with typed fields and every API function with its parameters', async () => {
    const h = setup();
    const s = await h.query<TraceSchema>({ what: 'trace-schema' });
    const map = s.events.find((e) => e.name === 'map')!;
    expect(map.kind).toBe('call');
    expect(map.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'domain:u',
      'iova:x',
      'paddr:x',
      'size:x',
      'ret:i',
    ]);
    expect(s.events.find((e) => e.name === 'api_call')!.fields.map((f) => f.type)).toEqual([
      'c',
      'v',
      'v',
      'v',
      'v',
      'v',
      'v',
    ]);
    expect(s.api.iommu_map).toEqual(['domain', 'iova', 'paddr', 'size', 'prot']);
    expect(s.api['device.dma_read']).toEqual(['dev', 'iova', 'length']);
  });
});

describe('trace-csv', () => {
  it('exports the filtered rows window by window, header first, same as the whole export', async () => {
    const h = setup();
    const run = await h.request({
      type: 'run',
      files: [{ name: 'main.ts', source: SCRIPT }],
      entry: 'main.ts',
    });
    expect(run.ok).toBe(true);
    const filter = { names: ['map', 'unmap'] };
    let text = '';
    let rows = 0;
    let total = -1;
    for (let offset = 0; total < 0 || offset < total; offset += 16) {
      const w = await h.query<TraceCsvWindow>({ what: 'trace-csv', offset, limit: 16, filter });
      total = w.total;
      rows += w.rows;
      text += w.text;
    }
    expect(total).toBe(41);
    expect(rows).toBe(41);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('index,step,kind,name,domain,iova,paddr,size,ret,unmapped_size');
    expect(lines).toHaveLength(42);
    expect(lines[1]).toMatch(/^\d+,4,call,map,\d+,0x10000,0x80000000,0x1000,0,$/);
    expect(lines[41]).toMatch(/,unmap,\d+,0x10000,,0x1000,,0x1000$/);

    // A window asked for out of order (a retry) gives the same text as in sequence.
    const again = await h.query<TraceCsvWindow>({ what: 'trace-csv', offset: 16, limit: 16, filter });
    expect(again.text.split('\n')[0]).toBe(lines[17]);
  });

  it("writes a call's arguments and result as the script passed and got them, nothing for one not passed", async () => {
    const h = setup();
    const source = `
import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_detach_device, iommu_map, SZ_4K } from 'iommu-lab';
const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
const nic = lab.add_device('nic0', { iommu: smmu });
const d = iommu_paging_domain_alloc(nic);
iommu_attach_device(d, nic);
iommu_map(d, 0x10000, 0x8000_0000, SZ_4K, 3);
iommu_detach_device(d, nic);
`;
    const run = await h.request({ type: 'run', files: [{ name: 'main.ts', source }], entry: 'main.ts' });
    expect(run.ok).toBe(true);
    const w = await h.query<TraceCsvWindow>({
      what: 'trace-csv',
      offset: 0,
      limit: 100,
      filter: { names: ['api_call', 'api_return'] },
    });
    const rows = w.text.trimEnd().split('\n');
    expect(rows[0]).toBe('index,step,kind,name,fn,a0,a1,a2,a3,a4,a5,ret');
    const cells = rows.slice(1).map((r) => r.split(',').slice(4).join(','));
    expect(cells).toEqual([
      'lab.add_iommu,"""smmu0""","""arm-smmu-v3""",,,,,',
      'lab.add_iommu,,,,,,,iommu smmu0',
      'lab.add_device,"""nic0""",{iommu: iommu smmu0},,,,,',
      'lab.add_device,,,,,,,device nic0',
      'iommu_paging_domain_alloc,device nic0,,,,,,',
      'iommu_paging_domain_alloc,,,,,,,domain 2',
      'iommu_attach_device,domain 2,device nic0,,,,,',
      'iommu_attach_device,,,,,,,0x0',
      'iommu_map,domain 2,0x10000,0x80000000,0x1000,0x3,,',
      'iommu_map,,,,,,,0x0',
      'iommu_detach_device,domain 2,device nic0,,,,,',
      'iommu_detach_device,,,,,,,',
    ]);
  });

  it('refuses an offset that is not a multiple of the window', async () => {
    const h = setup();
    const r = await h.request({ type: 'query', query: { what: 'trace-csv', offset: 5, limit: 16 } });
    expect(r).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });
});
