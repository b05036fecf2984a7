import { describe, expect, it } from 'vitest';
import { editorChanges } from './editor-text.ts';

const file = (name: string, source: string) => ({ name, source });

describe('what the editor changed in a session it loaded', () => {
  it('says nothing for text the editor holds as it was (one kind of line ending, no BOM)', () => {
    const scripts = [file('crlf.ts', 'a;\r\nb;\r\n'), file('lf.ts', 'a;\nb;\n'), file('empty.ts', '')];
    expect(
      editorChanges(
        scripts,
        scripts.map((s) => ({ ...s })),
      ),
    ).toEqual([]);
  });

  it('names the tabs whose line endings became one kind, and which kind', () => {
    expect(
      editorChanges(
        [file('mixed.ts', 'a;\r\nb;\nc;\r\n'), file('cr.ts', 'a;\rb;\r'), file('lf.ts', 'a;\r\nb;\nc;\n')],
        [
          file('mixed.ts', 'a;\r\nb;\r\nc;\r\n'),
          file('cr.ts', 'a;\r\nb;\r\n'),
          file('lf.ts', 'a;\nb;\nc;\n'),
        ],
      ),
    ).toEqual([
      'line endings of mixed.ts were normalised to CRLF',
      'line endings of cr.ts were normalised to CRLF',
      'line endings of lf.ts were normalised to LF',
    ]);
  });

  it('names a dropped byte order mark, apart from the line endings', () => {
    expect(editorChanges([file('lib/bom.ts', '\ufeffa;\n')], [file('lib/bom.ts', 'a;\n')])).toEqual([
      'the byte order mark at the start of lib/bom.ts was dropped',
    ]);
    expect(editorChanges([file('bom.ts', '\ufeffa;\r\nb;\n')], [file('bom.ts', 'a;\nb;\n')])).toEqual([
      'the byte order mark at the start of bom.ts was dropped',
      'line endings of bom.ts were normalised to LF',
    ]);
  });

  it('says so for any other difference rather than call it a line ending', () => {
    expect(editorChanges([file('x.ts', 'a;\n')], [file('x.ts', 'b;\n')])).toEqual([
      'the editor changed the text of x.ts',
    ]);
  });
});
