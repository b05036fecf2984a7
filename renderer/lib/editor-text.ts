/**
 * What the editor changed in a session's scripts as it loaded them. A Monaco model holds one kind of
 * line ending (the one most lines end with: mixed and lone-CR endings become it) and no byte order
 * mark, so a tab's text can differ from the file's before anything is typed. The session counts
 * what the editor holds as the saved state (session-actions.ts); these notes say once what changed.
 */
import type { SourceFile } from '../../engine/host/protocol.ts';

/** One note per change, e.g. `line endings of x.ts were normalised to CRLF`; none when nothing changed. */
export function editorChanges(loaded: readonly SourceFile[], held: readonly SourceFile[]): string[] {
  const notes: string[] = [];
  for (const file of loaded) {
    const now = held.find((h) => h.name === file.name)?.source;
    if (now === undefined || now === file.source) continue;
    const bom = file.source.startsWith('\ufeff') && !now.startsWith('\ufeff');
    if (bom) notes.push(`the byte order mark at the start of ${file.name} was dropped`);
    const text = bom ? file.source.slice(1) : file.source;
    if (text === now) continue;
    if (oneEnding(text) === oneEnding(now))
      notes.push(`line endings of ${file.name} were normalised to ${now.includes('\r\n') ? 'CRLF' : 'LF'}`);
    else notes.push(`the editor changed the text of ${file.name}`);
  }
  return notes;
}

const oneEnding = (text: string): string => text.replace(/\r\n?/g, '\n');
