import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, it } from 'vitest';
import rule, { allowedLayers } from './engine-layering.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const tester = new RuleTester({
  languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
});

const ok = (filename: string, code: string) => ({ filename, code });
const bad = (filename: string, code: string, messageId: string, data?: Record<string, string>) => ({
  filename,
  code,
  errors: [{ messageId, ...(data ? { data } : {}) }],
});

tester.run('engine-layering', rule, {
  valid: [
    ok('engine/mem/phys-mem.ts', "import { Trace } from '../trace/trace.ts';"),
    ok('engine/mem/phys-mem.ts', "import { x } from './pages.ts';"),
    ok('engine/pgtable/arm-lpae.ts', "import { PhysMem } from '../mem/phys-mem.ts';"),
    ok('engine/core/iommu.ts', "import type { Iotlb } from '../iotlb/iotlb.ts';"),
    ok('engine/drivers/virtio/host.ts', "import { iommu_map } from '../../core/iommu.ts';"),
    ok('engine/checks/stale.ts', "import { ev } from '../dma/trace-events.ts';"),
    ok('engine/dma/iova.ts', "import { ev } from '../checks/registry.ts';"),
    ok('engine/script/lab.ts', "import { x } from '../dma/dma-map.ts'; import * as acorn from 'acorn';"),
    ok('engine/host/host.ts', "export * from '../script/lab.ts';"),
    ok('engine/cli/main.ts', "import fs from 'node:fs'; import { host } from '../host/host.ts';"),
    ok('engine/host/node/port.ts', "import { Worker } from 'node:worker_threads';"),
    ok('engine/trace/trace.test.ts', "import { readFileSync } from 'node:fs';"),
    ok('engine/drivers/conformance.test.ts', "import { createLabModule } from '../script/module.ts';"),
    ok('engine/trace/trace.ts', "const m = await import('./events.ts');"),
    ok('renderer/app.ts', "import fs from 'node:fs'; import { x } from '../engine/core/iommu.ts';"),
    ok('main/index.ts', "import { app } from 'electron';"),
    ok('engine/session/load.ts', "import { KERNEL_NAMES } from '../core/kernel-profile.ts';"),
    ok('engine/session/load.ts', "import { h } from '../trace/hash64.ts'; import s from './x.schema.json';"),
    ok('engine/host/host.ts', "import { loadSession } from '../session/load.ts';"),
    ok('engine/cli/session-command.ts', "import { loadSession } from '../session/load.ts';"),
  ],
  invalid: [
    bad('engine/trace/trace.ts', "import { PhysMem } from '../mem/phys-mem.ts';", 'layer', {
      layer: 'trace',
      target: 'mem',
      allowed: 'engine/trace',
    }),
    bad('engine/mem/phys-mem.ts', "import { x } from '../core/iommu.ts';", 'layer', {
      layer: 'mem',
      target: 'core',
      allowed: 'engine/trace, engine/mem',
    }),
    bad('engine/core/iommu.ts', "import type { Driver } from '../drivers/arm-smmu-v3.ts';", 'layer'),
    bad('engine/drivers/intel-iommu.ts', "export { f } from '../dma/iova.ts';", 'layer'),
    bad('engine/iotlb/iotlb.ts', "export * from '../script/lab.ts';", 'layer'),
    bad('engine/script/lab.ts', "const h = await import('../host/host.ts');", 'layer'),
    bad('engine/core/iommu.ts', "type T = import('../script/lab.ts').Lab;", 'layer'),
    bad('engine/core/iommu.ts', "import { x } from '../misc/thing.ts';", 'unknown'),
    bad('engine/core/iommu.ts', "import fs from 'fs';", 'builtin'),
    bad('engine/core/iommu.ts', "import { readFile } from 'node:fs/promises';", 'builtin'),
    bad('engine/host/host.ts', "import { Worker } from 'worker_threads';", 'builtin'),
    bad('engine/host/web/worker.ts', "import path from 'node:path';", 'builtin'),
    bad('engine/script/runner.ts', "import { ipcRenderer } from 'electron';", 'builtin'),
    bad('engine/host/host.ts', "const cp = require('child_process');", 'builtin'),
    bad('engine/host/protocol.ts', "import type { Panel } from '../../renderer/panels.ts';", 'ui'),
    bad('engine/cli/main.ts', "import { win } from '../../main/window.ts';", 'ui'),
    bad('engine/session/load.ts', "import { runScript } from '../script/run-script.ts';", 'layer', {
      layer: 'session',
      target: 'script',
      allowed: 'engine/trace, engine/core',
    }),
    bad('engine/session/load.ts', "import { PhysMem } from '../mem/phys-mem.ts';", 'layer'),
    bad('engine/script/lab.ts', "import { loadSession } from '../session/load.ts';", 'layer'),
    bad('engine/core/iommu.ts', "import { loadSession } from '../session/load.ts';", 'layer'),
    bad('engine/session/load.ts', "import { readFileSync } from 'node:fs';", 'builtin'),
  ],
});

describe('allowedLayers', () => {
  it('follows ARCHITECTURE.md: trace for all, dma and checks beside each other above drivers', () => {
    if (allowedLayers('trace').join() !== 'trace') throw new Error('trace imports only itself');
    if (allowedLayers('checks').join() !== 'trace,mem,pgtable,iotlb,core,drivers,dma,checks')
      throw new Error(`checks: ${allowedLayers('checks').join()}`);
    if (allowedLayers('cli').length !== 12) throw new Error('cli imports every layer');
    if (allowedLayers('renderer').length !== 0) throw new Error('not a layer');
    if (allowedLayers('session').join() !== 'trace,core') throw new Error('session: trace and core only');
    if (!allowedLayers('host').includes('session')) throw new Error('host may import session');
  });
});
