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

  it('a handle offers no way out of the sandbox', () => {
    const r = runScript({
      fileName: 'esc.ts',
      source: `${SETUP}(dom as any).constructor.constructor('return process')();\n`,
    });
    expect(r.status).toBe('error');
    expect(r.error?.message).toMatch(/constructor/);
  });
});
