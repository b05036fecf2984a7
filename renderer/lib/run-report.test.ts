import { describe, expect, it } from 'vitest';
import { jsonRecord } from '../../engine/cli/report.ts';
import { runScript } from '../../engine/script/run-script.ts';
import { runReport } from './run-report.ts';

describe('the run report the app exports', () => {
  it("gives an error's message as `iommu-lab run --json` does: the class in `name`, not twice in the text", () => {
    const r = runScript({
      fileName: 'main.ts',
      source: "const o: any = undefined;\nthrow new RangeError('iova ' + 'out of reach');\n",
    });
    const { session, ...result } = r;
    session?.dispose();
    expect(result.status).toBe('error');
    const report = runReport(result, null, null);
    expect(report.error).toMatchObject({ name: 'RangeError', message: 'iova out of reach', line: 2 });
    expect(report.error).toMatchObject(jsonRecord({ ...result, file: 'main.ts' }).error as object);
  });
});
