/**
 * What a run records for the matrix's comparison: the script's API calls in order, each with its
 * line and its result as the Trace panel shows one, the lab's own functions left out.
 */
import { describe, expect, it } from 'vitest';
import { runScript } from './run-script.ts';
import { MAX_CALL_RESULTS } from './call-results.ts';

const run = (lines: string[], extra: Parameters<typeof runScript>[0]['files'] = []) =>
  runScript({
    fileName: 's.ts',
    source: lines.join('\n') + '\n',
    files: extra,
    kernel: 'v6.16',
    recordCallResults: true,
  });

describe('callResults', () => {
  it('each call with its line and result: errnos by name, addresses in a buffer by its name, handles by name', () => {
    const r = run([
      "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_map, iommu_iova_to_phys, iommu_get_resv_regions, iommu_get_domain_for_dev, IOMMU_READ, SZ_4K } from 'iommu-lab';",
      "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
      "const nic = lab.add_device('nic0', { iommu: smmu });",
      'const pa = lab.mem.alloc(SZ_4K);',
      'const d = iommu_paging_domain_alloc(nic) as any;',
      'iommu_map(d, 0x10001, pa, SZ_4K, IOMMU_READ);',
      'iommu_attach_device(d, nic);',
      'iommu_map(d, 0x10000, pa, SZ_4K, IOMMU_READ);',
      'iommu_iova_to_phys(d, 0x10000 + 0x234);',
      'iommu_get_resv_regions(nic);',
      'iommu_iova_to_phys(d, 0x12000);',
      'nic.dma_read(0x10008, 2);',
      'iommu_iova_to_phys(iommu_get_domain_for_dev(nic)!, 0x80000);',
      'nic.dma_read(0x90000, 1);',
    ]);
    expect(r.status).toBe('passed');
    // lab.* calls are steps 1–3 and the reserved regions describe the platform: not compared.
    expect(r.callResults).toEqual([
      { step: 4, fn: 'iommu_paging_domain_alloc', ret: 'domain 2', line: 5 },
      { step: 5, fn: 'iommu_map', ret: '-EINVAL', line: 6 },
      { step: 6, fn: 'iommu_attach_device', ret: '0', line: 7 },
      { step: 7, fn: 'iommu_map', ret: '0', line: 8 },
      // Where lab.mem.alloc put the buffer depends on the driver's tables: its name does not.
      { step: 8, fn: 'iommu_iova_to_phys', ret: 'buf1+0x234', line: 9 },
      { step: 9, fn: 'iommu_iova_to_phys', ret: '0', line: 11 },
      {
        step: 10,
        fn: 'device.dma_read',
        ret: "{ ok: true, pa: 'buf1+0x8', tlb: 'miss', data: Uint8Array(2) <00 00> }",
        line: 12,
      },
      { step: 10, fn: 'iommu_get_domain_for_dev', ret: 'domain 2', line: 13 },
      { step: 11, fn: 'iommu_iova_to_phys', ret: '0', line: 13 },
      // Addresses inside a result read in hex, as a result that is one address does.
      {
        step: 12,
        fn: 'device.dma_read',
        ret: "{ ok: false, fault: { reason: 'translation', iova: 0x90000, write: false } }",
        line: 14,
      },
    ]);
  });

  it('DMA addresses by mapping (an IOVA handed out again keeps its name), coherent buffers as buffers', () => {
    const r = run([
      "import { lab, dma_map_single, dma_unmap_single, dma_alloc_coherent, DMA_BIDIRECTIONAL, SZ_4K } from 'iommu-lab';",
      "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
      "const nic = lab.add_device('nic0', { iommu: smmu, default_domain: 'dma' });",
      'const pa = lab.mem.alloc(SZ_4K);',
      'const iova = dma_map_single(nic, pa + 0x10, 0x100, DMA_BIDIRECTIONAL);',
      'nic.dma_read(iova + 8, 2);',
      'dma_unmap_single(nic, iova, 0x100, DMA_BIDIRECTIONAL);',
      'dma_map_single(nic, pa, SZ_4K, DMA_BIDIRECTIONAL);',
      'dma_alloc_coherent(nic, SZ_4K);',
      'nic.dma_read(0x1234, 1);',
    ]);
    expect(r.status).toBe('passed');
    expect(r.callResults!.map((c) => `${c.fn} → ${c.ret}`)).toEqual([
      // Named from its page: the buffer starts 0x10 into it.
      'dma_map_single → dma1+0x10',
      "device.dma_read → { ok: true, pa: 'buf1+0x18', tlb: 'miss', data: Uint8Array(2) <00 00> }",
      'dma_unmap_single → undefined',
      // Strict: the IOVA page comes back at once, and reads as the same mapping.
      'dma_map_single → dma1+0x0',
      "dma_alloc_coherent → { cpu_addr: 'buf2+0x0', dma_handle: 'dma2+0x0' }",
      "device.dma_read → { ok: false, fault: { reason: 'translation', iova: 4660, write: false } }",
    ]);
  });

  it('an error pointer, a call that threw, and a call made in an imported helper', () => {
    const r = run(
      [
        "import { lab, iommu_paging_domain_alloc } from 'iommu-lab';",
        "import { map_at } from './helper';",
        "const dev = lab.add_device('nic0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });",
        'lab.fail_nth_alloc(1);',
        'const d = iommu_paging_domain_alloc(dev);',
        'try { map_at(d, -1); } catch {}',
      ],
      [
        {
          name: 'helper.ts',
          source: [
            "import { iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
            'export function map_at(d: any, iova: number) {',
            '  return iommu_map(d, iova, 0, SZ_4K, IOMMU_READ);',
            '}',
          ].join('\n'),
        },
      ],
    );
    expect(r.callResults?.map((c) => [c.fn, c.ret ?? `threw ${c.threw}`, c.file, c.line])).toEqual([
      ['iommu_paging_domain_alloc', 'ERR_PTR(-ENOMEM)', undefined, 5],
      ['iommu_map', 'threw TypeError', 'helper.ts', 3], // the domain is an error pointer,
    ]);
  });

  it('keeps the first MAX_CALL_RESULTS calls of a long run', () => {
    const r = run([
      "import { lab, iommu_paging_domain_alloc, iommu_iova_to_phys } from 'iommu-lab';",
      "const dev = lab.add_device('d0', { iommu: lab.add_iommu('i0', 'intel-iommu') });",
      'const d = iommu_paging_domain_alloc(dev) as any;',
      `for (let i = 0; i < ${MAX_CALL_RESULTS + 10}; i++) iommu_iova_to_phys(d, 0);`,
    ]);
    expect(r.steps).toBe(MAX_CALL_RESULTS + 13);
    expect(r.callResults).toHaveLength(MAX_CALL_RESULTS);
    expect(r.callResults![1]).toEqual({ step: 4, fn: 'iommu_iova_to_phys', ret: '0', line: 4 });
  });

  it('names no buffer or mapping once full: a long DMA run stays linear', () => {
    const r = run([
      "import { lab, dma_map_single, iommu_get_domain_for_dev, iommu_iova_to_phys, DMA_TO_DEVICE } from 'iommu-lab';",
      "const dev = lab.add_device('d0', { iommu: lab.add_iommu('i0', 'intel-iommu') });",
      'const d = iommu_get_domain_for_dev(dev)!;',
      `for (let i = 0; i < ${MAX_CALL_RESULTS}; i++) iommu_iova_to_phys(d, 0);`,
      'const pa = lab.mem.alloc(0x1000);',
      'for (let i = 0; i < 500; i++) dma_map_single(dev, pa, 0x1000, DMA_TO_DEVICE);',
    ]);
    expect(r.callResults).toHaveLength(MAX_CALL_RESULTS);
    const named = (
      r.session as unknown as { ctx: { results: { named: { buffers: unknown[]; mappings: unknown[] } } } }
    ).ctx.results.named;
    expect(named.buffers).toHaveLength(0);
    expect(named.mappings).toHaveLength(0);
  });

  it('records nothing unless asked', () => {
    const r = runScript({ fileName: 's.ts', source: "import { lab } from 'iommu-lab';\nlab.kernel();\n" });
    expect(r).not.toHaveProperty('callResults');
  });
});
