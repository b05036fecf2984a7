import { describe, expect, it } from 'vitest';
import { severityOf } from './ts-diagnostics.ts';

const ERROR = 1;

describe('how loud a TypeScript diagnostic is in the editor', () => {
  it('a type error is a warning: the script runs whatever its types say', () => {
    expect(severityOf('semantic', { category: ERROR, code: 2345 })).toBe('warning'); // not assignable
    expect(severityOf('semantic', { category: ERROR, code: 2322 })).toBe('warning');
    expect(severityOf('semantic', { category: ERROR, code: 2304 })).toBe('warning'); // cannot find name
  });

  it('what stops a run stays an error: syntax, grammar, and imports the runner refuses', () => {
    expect(severityOf('syntactic', { category: ERROR, code: 1005 })).toBe('error');
    expect(severityOf('semantic', { category: ERROR, code: 1308 })).toBe('error'); // await outside async
    expect(severityOf('semantic', { category: ERROR, code: 2307 })).toBe('error'); // cannot find module
    expect(severityOf('semantic', { category: ERROR, code: 2305 })).toBe('error'); // no exported member
    expect(severityOf('semantic', { category: ERROR, code: 2724 })).toBe('error');
  });

  it("keeps TypeScript's own warnings, suggestions and messages as they are", () => {
    expect(severityOf('semantic', { category: 0, code: 6133 })).toBe('warning');
    expect(severityOf('suggestion', { category: 2, code: 80001 })).toBe('hint');
    expect(severityOf('semantic', { category: 3, code: 6385 })).toBe('info');
  });
});
