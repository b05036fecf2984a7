/**
 * Scripts as the editor checks them: the shipped scenarios have no TypeScript errors, and the
 * declaration file catches what it promises to (a misspelt driver, another driver's options)
 * without rejecting a driver named at run time.
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import DTS from '../../engine/script/iommu-lab.d.ts?raw';
import { LIBRARY_FILES, SCENARIOS } from './scenario-library.ts';
import { SCRIPT_GLOBALS_DECL, SCRIPT_COMPILER_OPTIONS } from './script-types.ts';

/** TypeScript's errors for `files` (path → text), with `iommu-lab` resolving to the API's declarations. */
function diagnostics(files: Record<string, string>): string[] {
  const all: Record<string, string> = {
    ...files,
    '/node_modules/iommu-lab/index.d.ts': DTS,
    '/node_modules/@types/iommu-lab-globals/index.d.ts': SCRIPT_GLOBALS_DECL,
  };
  const options = {
    ...SCRIPT_COMPILER_OPTIONS,
    // The compiler API takes library file names where a tsconfig (and Monaco) takes 'es2022'.
    lib: SCRIPT_COMPILER_OPTIONS.lib.map((l) => `lib.${l}.d.ts`),
    types: ['iommu-lab-globals'],
    typeRoots: ['/node_modules/@types'],
    // The editor's worker runs TypeScript 5.9, where NodeJs resolution is not yet deprecated.
    ignoreDeprecations: '6.0',
  };
  const host = ts.createCompilerHost(options);
  const base = { getSourceFile: host.getSourceFile.bind(host), fileExists: host.fileExists.bind(host) };
  host.getCurrentDirectory = () => '/';
  host.fileExists = (f) => f in all || base.fileExists(f);
  host.readFile = (f) => all[f] ?? ts.sys.readFile(f);
  host.getSourceFile = (f, lang) =>
    f in all ? ts.createSourceFile(f, all[f], lang) : base.getSourceFile(f, lang);
  host.directoryExists = (d) =>
    Object.keys(all).some((f) => f.startsWith(d + '/')) || ts.sys.directoryExists(d);
  const program = ts.createProgram(Object.keys(files), options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start!).line + 1}: `
      : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}

const script = (body: string) => ({ '/scripts/s.ts': `import { lab } from 'iommu-lab';\n${body}\n` });

describe('scripts as the editor type-checks them', () => {
  it('the shipped scenarios and their helpers have no errors', () => {
    // As the gallery opens them: tabs under the script root, helpers beside them in lib/.
    const files = Object.fromEntries(
      [...SCENARIOS, ...LIBRARY_FILES].map((f) => [`/scripts/${f.name}`, f.source]),
    );
    expect(Object.keys(files).length).toBeGreaterThan(10);
    expect(diagnostics(files)).toEqual([]);
  });

  it('a tab imports another tab, .ts or .js, by its name', () => {
    const files = {
      '/scripts/main.ts': [
        "import { machine } from './helpers.ts';",
        "import { twice } from './util.js';",
        "console.log(machine('arm-smmu-v3'), twice(2));",
      ].join('\n'),
      '/scripts/helpers.ts':
        "import { lab } from 'iommu-lab';\nexport const machine = (d: string) => lab.add_iommu('i0', d);\n",
      '/scripts/util.js': 'export function twice(x) {\n  return 2 * x;\n}\n',
    };
    expect(diagnostics(files)).toEqual([]);
    expect(
      diagnostics({ '/scripts/main.ts': "import { x } from './nothere.ts';\nconsole.log(x);\n" }),
    ).toEqual([
      "/scripts/main.ts:1: Cannot find module './nothere.ts' or its corresponding type declarations.",
    ]);
  });

  it('flags a misspelt driver name written in the script, naming the known ones', () => {
    const errors = diagnostics(script("lab.add_iommu('smmu0', 'arm-smmu-v4');"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^\/scripts\/s\.ts:2: No overload matches this call/);
    expect(errors[0]).toMatch(/"arm-smmu-v4"' is not assignable to parameter of type 'DriverName'/);
  });

  it("flags an option of another driver (intel-iommu has no 'granule')", () => {
    expect(diagnostics(script("lab.add_iommu('smmu0', 'arm-smmu-v3', { granule: 0x1000 });"))).toEqual([]);
    const errors = diagnostics(script("lab.add_iommu('dmar0', 'intel-iommu', { granule: 0x1000 });"));
    expect(errors.join('\n')).toMatch(/'granule' does not exist/);
  });

  it('accepts what SCRIPT-API.md shows without narrowing: a DMA result read as it comes, a virtio host', () => {
    const body = [
      "import { expect } from 'iommu-lab';",
      "const v = lab.add_iommu('v0', 'virtio-iommu');",
      "const d = lab.add_device('d0', { iommu: v });",
      'const r = d.dma_read(0x1000, 4);',
      "expect(r.tlb).toBe('miss');",
      'expect(r.pa).toBe(0x1000);',
      "expect(r.fault?.reason).toBe('translation');",
      'expect(v.host.kicks).toBe(1);',
      'expect(v.host.requests.length).toBe(1);',
    ].join('\n');
    expect(diagnostics(script(body))).toEqual([]);
    // A host read on an instance whose driver is known only at run time still asks for a check.
    const errors = diagnostics(
      script("const i = lab.add_iommu('i0', lab.params.driver ?? 'virtio-iommu');\ni.host.kicks;"),
    );
    expect(errors.join('\n')).toMatch(/'i.host' is possibly 'undefined'/);
  });

  it("knows the runner's globals (console and the web helpers) and no other DOM name", () => {
    const body = [
      'const pa = lab.mem.alloc(4096);',
      "lab.mem.write(pa, new TextEncoder().encode('ping'));",
      "console.log(new TextDecoder().decode(lab.mem.read(pa, 4)), atob(btoa('x')), structuredClone([1]));",
    ].join('\n');
    expect(diagnostics(script(body))).toEqual([]);
    expect(diagnostics(script('document.title;'))).toEqual([
      expect.stringMatching(/^\/scripts\/s\.ts:2: Cannot find name 'document'\./),
    ]);
  });

  it('accepts a driver known only at run time, as a matrix scenario names it', () => {
    expect(
      diagnostics(script("lab.add_iommu('i0', lab.params.driver ?? 'arm-smmu-v3', { tlb_entries: 8 });")),
    ).toEqual([]);
  });
});
