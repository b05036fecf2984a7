/** The runner with the real `iommu-lab` module: positions through engine frames, kernel errors, the session. */
import { describe, expect, it } from 'vitest';
import { runScript } from './run-script.ts';

const SETUP = `import { lab, iommu_map, iommu_paging_domain_alloc, expect, IOMMU_READ, IOMMU_WRITE, SZ_4K, IS_ERR } from 'iommu-lab';
const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3', { ias: 48 });
const nic = lab.add_device('nic0', { iommu: smmu });
const dom = iommu_paging_domain_alloc(nic);
const pa = lab.mem.alloc(SZ_4K);
`;

describe('runScript with the lab module', () => {
  it("gives a run after a disposed lab that lab's memory, and the same trace and results as a fresh one", () => {
    // Enough steps and events to fill whole call-log blocks and trace chunks, and memory the
    // script writes, then expects to read as zeros when it allocates it: the second run gets all
    // of it back from the first.
    const source = `${SETUP}
const bufs: number[] = [];
for (let i = 0; i < 40; i++) {
  const b = lab.mem.alloc(SZ_4K);
  expect([...lab.mem.read(b + 8 * i, 4)]).toEqual([0, 0, 0, 0]);
  lab.mem.write(b + 8 * i, [0xde, 0xad, 0xbe, 0xef]);
  bufs.push(b);
}
for (let i = 0; i < 70_000; i++) iommu_map(dom as any, 0x1_0000_0000 + i * SZ_4K, pa, SZ_4K, IOMMU_READ);
console.log(bufs.length);
`;
    // No run time limit: under a loaded machine 70,000 calls may take longer than the default 10 s.
    const first = runScript({ fileName: 'big.ts', source, timeoutMs: 600_000 });
    expect(first.status).toBe('passed');
    const digest = first.session!.trace.digest();
    const events = first.session!.trace.length;
    const domains = JSON.stringify(first.session!.query('domains'));
    first.session!.dispose();
    expect(() => first.session!.query('domains')).toThrow(/disposed: a newer run replaced it/);
    expect(first.session!.trace.length).toBe(0);

    const second = runScript({ fileName: 'big.ts', source, timeoutMs: 600_000 });
    expect(second.status).toBe('passed');
    expect(second.expectations).toEqual(first.expectations);
    expect(second.session!.trace.length).toBe(events);
    expect(second.session!.trace.digest()).toBe(digest);
    expect(JSON.stringify(second.session!.query('domains'))).toBe(domains);
    // Time travel replays the recorded calls against the recorded trace, event by event.
    second.session!.seek(35_000);
    expect(second.session!.currentStep).toBe(35_000);
  });

  it('runs a scenario and keeps the session', () => {
    const r = runScript({
      fileName: 'map.ts',
      source: `${SETUP}expect(IS_ERR(dom)).toBe(false);\nexpect(iommu_map(dom as any, 0x10000, pa, SZ_4K, IOMMU_READ | IOMMU_WRITE)).toBe(0);\nconsole.log(dom);\n`,
    });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('passed');
    expect(r.expectations).toEqual({ passed: 2, failed: 0 });
    expect(r.steps).toBeGreaterThanOrEqual(5);
    expect(r.session?.steps).toBe(r.steps);
    expect(r.session?.trace.length).toBeGreaterThan(0);
    expect(r.console[0].text).toMatch(/^\{\n {2}id: \d+,/);
    expect(r.kernel).toBe('v6.16');
  });

  it("reports the engine's argument errors at the script's call", () => {
    const r = runScript({
      fileName: 'bad.ts',
      source: `${SETUP}\n  iommu_map(dom as any, -1, pa, SZ_4K, IOMMU_READ);\n`,
    });
    expect(r.status).toBe('error');
    expect(r.error).toMatchObject({ name: 'RangeError', file: 'bad.ts', line: 7, column: 3 });
    expect(r.error?.message).toMatch(/iova/);
  });

  it('a named import the module does not export stops the run at the import, before any step', () => {
    const source =
      "import { lab, IommuDomain, iommu_map as map,\n  iommu_map_pages_fancy } from 'iommu-lab';\n" +
      "lab.add_iommu('smmu0', 'arm-smmu-v3');\nconst d: IommuDomain | null = null;\nmap;\niommu_map_pages_fancy();\n";
    const r = runScript({ fileName: 'typo.ts', source });
    expect(r.status).toBe('error');
    expect(r.steps).toBe(0);
    expect(r.error).toMatchObject({ name: 'SyntaxError', file: 'typo.ts', line: 2, column: 3 });
    expect(r.error?.message).toBe(
      "The requested module 'iommu-lab' does not provide an export named 'iommu_map_pages_fancy'",
    );
    // A type used only as a type, and a namespace import, are not looked up.
    const ok = runScript({
      fileName: 'types.ts',
      source:
        "import { lab, type Device, IommuDomain } from 'iommu-lab';\nimport * as L from 'iommu-lab';\nlet d: IommuDomain | Device | null = null;\nL.lab.kernel();\n",
    });
    expect(ok.error).toBeUndefined();
  });

  it("a name a file of the run does not export stops the run at the import too; a cycle's part-filled exports do not", () => {
    const r = runScript({
      fileName: 'main.ts',
      source:
        "import { lab } from 'iommu-lab';\nimport { PAGE,\n  PAGES } from './sizes';\nlab.kernel();\nconsole.log(PAGE, PAGES.x);\n",
      files: [{ name: 'sizes.ts', source: 'export const PAGE = 4096;\n' }],
    });
    expect(r.status).toBe('error');
    expect(r.steps).toBe(0);
    expect(r.error).toMatchObject({ name: 'SyntaxError', file: 'main.ts', line: 3, column: 3 });
    expect(r.error?.message).toBe("The requested module './sizes' does not provide an export named 'PAGES'");
    // a.ts and b.ts import each other: b sees a's exports before a has filled them.
    const cycle = runScript({
      fileName: 'a.ts',
      source: "import { twice } from './b';\nexport const ONE = 1;\nconsole.log(twice());\n",
      files: [{ name: 'b.ts', source: "import { ONE } from './a';\nexport const twice = () => 2 * ONE;\n" }],
    });
    expect(cycle.error).toBeUndefined();
    expect(cycle.console.map((l) => l.text)).toEqual(['2']);
  });

  it('a default import of a file that has no default export stops the run at the import', () => {
    const r = runScript({
      fileName: 'main.ts',
      source:
        "import { lab } from 'iommu-lab';\nimport sizes from './sizes';\nlab.kernel();\nconsole.log(sizes.PAGE);\n",
      files: [{ name: 'sizes.ts', source: 'export const PAGE = 4096;\n' }],
    });
    expect(r.status).toBe('error');
    expect(r.error).toMatchObject({ name: 'SyntaxError', file: 'main.ts', line: 2, column: 8 });
    expect(r.error?.message).toBe(
      "The requested module './sizes' does not provide an export named 'default'",
    );
  });

  it('expectation messages name handles as pointers are named (domain 3, device nic0), not by their fields', () => {
    const source =
      "import { lab, expect, iommu_paging_domain_alloc, iommu_get_domain_for_dev, iommu_group_get } from 'iommu-lab';\n" +
      "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');\nconst a = lab.add_device('a', { iommu: smmu, group: 'g' });\n" +
      "const c = lab.add_device('c', { iommu: smmu });\nconst d = iommu_paging_domain_alloc(c);\n" +
      'expect(iommu_group_get(a)!.devices).toContain(c);\n';
    const r = runScript({ fileName: 'h.ts', source });
    expect(r.error?.message).toBe('expected [device a] to contain device c');
    const r2 = runScript({
      fileName: 'h.ts',
      source: source.replace(/expect\(iommu_group.*\n$/, 'expect(iommu_get_domain_for_dev(a)).toBe(d);\n'),
    });
    expect(r2.error?.message).toBe('expected domain 3 but got domain 1');
  });

  it('errors name imports as the script wrote them, not as the compiler renamed them', () => {
    const named = runScript({
      fileName: 'a.ts',
      source: "import { lab } from 'iommu-lab';\n(lab as any).add_iommus('x');\n",
    });
    expect(named.error).toMatchObject({ message: 'TypeError: lab.add_iommus is not a function', line: 2 });
    // The default import is the whole module (README): its missing member is named through it.
    const whole = runScript({
      fileName: 'b.ts',
      source: "import L from 'iommu-lab';\n(L as any).add_iommu('x');\n",
    });
    expect(whole.error?.message).toBe('TypeError: L.add_iommu is not a function');
  });

  it('stopAfterSteps stops the run there, keeping the lab: before the next call, or in a loop with no call', () => {
    const calls =
      "import { lab, iommu_paging_domain_alloc, iommu_map } from 'iommu-lab';\n" +
      "const dev = lab.add_device('nic0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });\n" +
      'const d = iommu_paging_domain_alloc(dev) as any;\n' +
      'iommu_map(d, 0x1000, 0x8000_0000, 0x1000, 1);\n' +
      "console.log('mapped');\n" +
      'iommu_map(d, 0x2000, 0x8000_1000, 0x1000, 1);\n' +
      'while (true) {}\n';
    const r = runScript({ fileName: 'stop.ts', source: calls, stopAfterSteps: 4 });
    expect(r).toMatchObject({ status: 'error', steps: 4, stopped: true, timedOut: false });
    expect(r.error).toMatchObject({ name: 'StopError', line: 6 });
    expect(r.console.map((l) => l.text)).toEqual(['mapped']);
    // The lab is kept as it was after step 4: the first page mapped, the second not.
    const d = r.session!.machine.domain_by_id.get(2)!;
    expect([0x1000, 0x2000].map((iova) => d.ops.iova_to_phys!(d, iova))).toEqual([0x8000_0000, 0]);
    // A loop that makes no call: stopped at its first iteration past the step, not by the time limit.
    const loop = runScript({
      fileName: 'spin.ts',
      source: calls.replace('iommu_map(d, 0x2000', '// '),
      stopAfterSteps: 4,
    });
    expect(loop).toMatchObject({ steps: 4, stopped: true, timedOut: false });
    expect(loop.error).toMatchObject({ name: 'StopError', line: 7 });
    // A step once begun is finished, however many events it records (the time limit's poll
    // inside it does not stop it at the step limit).
    const long = runScript({
      fileName: 'long.ts',
      source: calls
        .replace(
          'iommu_map(d, 0x1000, 0x8000_0000, 0x1000, 1);',
          'iommu_map_sg(d, 0, Array.from({ length: 3000 }, (_, i) => ({ paddr: 0x8000_0000 + 2 * i * 0x1000, length: 0x1000 })), 1);',
        )
        .replace(
          '{ lab, iommu_paging_domain_alloc, iommu_map }',
          '{ lab, iommu_paging_domain_alloc, iommu_map, iommu_map_sg }',
        ),
      stopAfterSteps: 4,
    });
    expect(long).toMatchObject({ steps: 4, stopped: true });
    expect(long.session!.trace.length).toBeGreaterThan(2 * 4096);
    const ld = long.session!.machine.domain_by_id.get(2)!;
    expect(ld.ops.iova_to_phys!(ld, 2999 * 0x1000)).toBe(0x8000_0000 + 2 * 2999 * 0x1000);
  });

  it('a run stopped at a step gets no end-of-run checks: the script paused there, it did not end', () => {
    const source = [
      "import { lab, iommu_paging_domain_alloc, iommu_map, iommu_unmap_fast, iommu_iotlb_gather_init, iommu_iotlb_sync } from 'iommu-lab';",
      "const dev = lab.add_device('nic0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });",
      'const d = iommu_paging_domain_alloc(dev) as any;',
      'iommu_map(d, 0x1000, 0x8000_0000, 0x1000, 3);',
      'const g = iommu_iotlb_gather_init();',
      'iommu_unmap_fast(d, 0x1000, 0x1000, g);',
      'iommu_iotlb_sync(d, g);',
    ].join('\n');
    const unsynced = (r: ReturnType<typeof runScript>) =>
      r.checks.filter((c) => c.id === 'unmap-without-sync');
    expect(unsynced(runScript({ fileName: 'stop.ts', source, stopAfterSteps: 6 }))).toEqual([]);
    // The same script ending there, its sync never made, gets it.
    const ended = runScript({ fileName: 'end.ts', source: source.replace('iommu_iotlb_sync(d, g);', '') });
    expect(unsynced(ended)).toHaveLength(1);
  });

  it('marks an API the kernel lacks as unavailable', () => {
    const src = `import { iommu_domain_alloc, lab } from 'iommu-lab';\niommu_domain_alloc(lab.bus('pci'));\n`;
    const r = runScript({ fileName: 'old.ts', source: src, kernel: 'v6.16' });
    expect(r).toMatchObject({
      status: 'error',
      unavailable: true,
      error: { name: 'KernelVersionError', line: 2 },
    });
    expect(runScript({ fileName: 'old.ts', source: src, kernel: 'v6.6' }).status).toBe('passed');
  });

  it('a fixed kernel cannot be changed by the script', () => {
    const r = runScript({
      fileName: 'k.ts',
      source: `import { lab } from 'iommu-lab';\nlab.kernel('v6.8');\n`,
      kernel: 'v6.6',
      fixedKernel: true,
    });
    expect(r.status).toBe('error');
    expect(r.error?.line).toBe(2);
    expect(r.kernel).toBe('v6.6');
  });

  it('reports the kernel the script picked', () => {
    const r = runScript({
      fileName: 'k.ts',
      source: `import { lab } from 'iommu-lab';\nlab.kernel('v6.8');\n`,
    });
    expect(r.kernel).toBe('v6.8');
  });

  it('the time limit also stops one long call into the lab, at the script line that made it', () => {
    const source = [
      "import { lab, iommu_paging_domain_alloc, iommu_map, IOMMU_READ } from 'iommu-lab';",
      "const dev = lab.add_device('d', { iommu: lab.add_iommu('z', 's390-iommu', { end_dma: 2 ** 42 - 1 }) });",
      'const d = iommu_paging_domain_alloc(dev) as any;',
      'try {',
      '  iommu_map(d, 0x1000, 0x1000, 2 ** 40, IOMMU_READ); // 2^28 pages: minutes of work',
      '} catch {}',
      "console.log('not reached: the limit holds outside the try too');",
    ].join('\n');
    const t0 = Date.now();
    const r = runScript({ fileName: 'big.ts', source, timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.status).toBe('error');
    expect(r.timedOut).toBe(true);
    expect(r.error?.message).toMatch(/time limit of 300 ms/);
    expect(r.console).toEqual([]);
    // The lab is still there to look at, and earlier steps can be shown.
    expect(r.session!.seek(1)).toBeTruthy();
    expect(Array.isArray(r.session!.query('domains'))).toBe(true);
  });

  it('the time limit reaches a lab call that records nothing for long (a terabyte direct region)', () => {
    const source = [
      "import { lab } from 'iommu-lab';",
      "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
      '// 2 ** 40 for 2 ** 20: probing the region page by page in add_device takes minutes',
      "lab.add_device('nic0', { iommu: smmu, resv: [{ start: 0, length: 2 ** 40, type: 'direct' }] });",
    ].join('\n');
    const t0 = Date.now();
    const r = runScript({ fileName: 'direct.ts', source, timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.status).toBe('error');
    expect(r.timedOut).toBe(true);
    expect(r.error?.line).toBe(4);
  });

  it('a call the time limit cut in its direct-mapping walk is rebuilt as the run left it', () => {
    // The second device of a group: its region is walked in the group's existing default domain.
    const source = [
      "import { lab } from 'iommu-lab';",
      "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
      "lab.add_device('a', { iommu: smmu, group: 'g' });",
      "lab.add_device('b', { iommu: smmu, group: 'g', resv: [{ start: 0x1000, length: 2 ** 40, type: 'direct' }] });",
    ].join('\n');
    const r = runScript({ fileName: 'cut.ts', source, timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    const s = r.session!;
    const requireDirect = (m: typeof s.machine) => m.devices.map((d) => `${d.name}:${d.require_direct}`);
    expect(requireDirect(s.machine)).toEqual(['a:false', 'b:true']);
    expect(requireDirect(s.stateAt(s.steps))).toEqual(requireDirect(s.machine));
  });

  it('the module cannot be changed through a namespace import, as an ES module namespace cannot', () => {
    const r = runScript({
      fileName: 'ns.ts',
      source: [
        "import * as L from 'iommu-lab';",
        "import { IOMMU_READ, expect } from 'iommu-lab';",
        'expect(() => { (L as any).IOMMU_READ = 7; }).toThrow(TypeError);',
        "expect(() => { (L as any).iommu_map = () => 0; }).toThrow(/read only property 'iommu_map'/);",
        'expect(L.IOMMU_READ).toBe(1);',
        'expect(IOMMU_READ).toBe(1);',
      ].join('\n'),
    });
    expect(r.error).toBeUndefined();
    expect(r.expectations).toEqual({ passed: 4, failed: 0 });
  });

  it('a handle offers no way out of the sandbox', () => {
    const r = runScript({
      fileName: 'esc.ts',
      source: `${SETUP}(dom as any).constructor.constructor('return process')();\n`,
    });
    expect(r.status).toBe('error');
    expect(r.error?.message).toMatch(/constructor/);
  });
});
