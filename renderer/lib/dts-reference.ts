/**
 * The API reference, read from the same declaration file Monaco's IntelliSense uses
 * (engine/script/iommu-lab.d.ts), so the page cannot drift from what the editor and the engine know.
 *
 * The file is plain: `export` declarations (functions, interfaces, types, constants) with an optional
 * `/** … *\/` comment above each, interface members likewise, and `// ─── title ───` lines that open
 * a section. This reads exactly that shape; it is not a TypeScript parser.
 */

export type DeclKind = 'function' | 'interface' | 'type' | 'constant' | 'member';

export interface ApiDecl {
  /** `iommu_map`, `Lab`, `IOMMU_READ`; members are `Lab.add_iommu`. */
  name: string;
  kind: DeclKind;
  /** The declaration as written, without `export`/`declare`, whitespace folded (members: the member line). */
  signature: string;
  /** The doc comment's text, `*` margins removed; '' when there is none. */
  doc: string;
  /** The section heading it sits under ('' before the first one). */
  section: string;
  /** Interfaces: their members in order. */
  members?: ApiDecl[];
}

/** Where one comment, declaration or member ends, reading from `from`. */
function skipString(text: string, i: number): number {
  const q = text[i];
  for (i++; i < text.length && text[i] !== q; i++) if (text[i] === '\\') i++;
  return i + 1;
}

/**
 * Index just past the statement starting at `from`: at the first `;` outside brackets, or after the
 * `}` that closes a body opened at depth 0 when `bodyEnds` (interfaces end with their body).
 */
function statementEnd(text: string, from: number, bodyEnds: boolean): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"' || c === '`') {
      i = skipString(text, i) - 1;
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2) + 1 || text.length;
    } else if (c === '/' && text[i + 1] === '/') {
      i = text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i);
    } else if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') {
      depth--;
      if (depth === 0 && c === '}' && bodyEnds) return i + 1;
    } else if (c === ';' && depth === 0) return i + 1;
  }
  return text.length;
}

/** `/** a\n * b *\/` → "a\nb" (blank lines kept as paragraph breaks). */
export function docText(comment: string): string {
  const body = comment.replace(/^\/\*\*?/, '').replace(/\*\/$/, '');
  const lines = body.split('\n').map((l) => l.replace(/^\s*\* ?/, '').trimEnd());
  while (lines.length && !lines[0].trim()) lines.shift();
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  return lines.join('\n').trim();
}

const fold = (s: string) => s.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/,? \)/g, ')').trim();

/** A section heading line: `// ───── core API (facts §1–§3) ─────` → "core API (facts §1–§3)". */
function heading(line: string): string | null {
  const m = /^\/\/\s*[─—-]{3,}\s*(.*?)\s*[─—-]{3,}\s*$/.exec(line.trim());
  return m ? m[1] : null;
}

interface Piece {
  doc: string;
  text: string;
  /** The last section heading above it. */
  section: string;
}

/** Split a run of declarations (the file, or an interface body) into doc + statement pieces. */
function pieces(text: string, bodyEnds: boolean): Piece[] {
  const out: Piece[] = [];
  let doc = '';
  let section = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (text.startsWith('/**', i)) {
      const end = text.indexOf('*/', i + 3);
      const stop = end === -1 ? text.length : end + 2;
      doc = docText(text.slice(i, stop));
      i = stop;
      continue;
    }
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
      continue;
    }
    if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      const line = text.slice(i, end === -1 ? text.length : end);
      const h = heading(line);
      if (h !== null) {
        section = h;
        doc = '';
      }
      i = end === -1 ? text.length : end + 1;
      continue;
    }
    const isBodyDecl = bodyEnds && /^(export\s+)?(declare\s+)?interface\b/.test(text.slice(i, i + 40));
    const end = statementEnd(text, i, isBodyDecl);
    out.push({ doc, text: text.slice(i, end), section });
    doc = '';
    i = end;
  }
  return out;
}

function memberName(text: string): string {
  const m = /^(?:readonly\s+)?(\[[^\]]*\]|[A-Za-z_$][\w$]*)/.exec(text.trim());
  return m ? m[1] : text.trim().slice(0, 20);
}

/** Every exported declaration of a `.d.ts` in file order, with its members and doc comments. */
export function parseDts(source: string): ApiDecl[] {
  const out: ApiDecl[] = [];
  for (const p of pieces(source, true)) {
    const section = p.section;
    const t = p.text.trim();
    if (!t.startsWith('export')) continue;
    const rest = t.replace(/^export\s+(declare\s+)?/, '');
    let m: RegExpExecArray | null;
    if ((m = /^function\s+([\w$]+)/.exec(rest))) {
      out.push({
        name: m[1],
        kind: 'function',
        signature: fold(rest.replace(/;$/, '')),
        doc: p.doc,
        section,
      });
    } else if ((m = /^(?:const|let|var)\s+([\w$]+)/.exec(rest))) {
      out.push({
        name: m[1],
        kind: 'constant',
        signature: fold(rest.replace(/;$/, '')),
        doc: p.doc,
        section,
      });
    } else if ((m = /^type\s+([\w$]+)/.exec(rest))) {
      out.push({ name: m[1], kind: 'type', signature: fold(rest.replace(/;$/, '')), doc: p.doc, section });
    } else if ((m = /^interface\s+([\w$]+)/.exec(rest))) {
      const name = m[1];
      const open = rest.indexOf('{');
      const head = fold(rest.slice(0, open));
      const body = rest.slice(open + 1, rest.lastIndexOf('}'));
      const members = pieces(body, false).map((mp): ApiDecl => ({
        name: `${name}.${memberName(mp.text)}`,
        kind: 'member',
        signature: fold(mp.text.replace(/;$/, '')),
        doc: mp.doc,
        section,
      }));
      out.push({ name, kind: 'interface', signature: head, doc: p.doc, section, members });
    }
  }
  return out;
}

/** The numeric value of a `const NAME: 22` declaration, or undefined. */
export function constantValue(d: ApiDecl): number | undefined {
  if (d.kind !== 'constant') return undefined;
  const m = /:\s*(0x[0-9a-f]+|\d+)\s*$/i.exec(d.signature);
  return m ? Number(m[1]) : undefined;
}

/** errno → name (`22` → 'EINVAL'), from the constants the declarations list. */
export function errnoNames(decls: readonly ApiDecl[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const d of decls) {
    const v = constantValue(d);
    if (v !== undefined && /^E[A-Z0-9]+$/.test(d.name)) out.set(v, d.name);
  }
  return out;
}

/**
 * The declarations matching a search: every word of `query` must appear (case-insensitive) in the
 * name, signature or doc. An interface matches when it or any member does; then only the matching
 * members are kept, unless the interface itself matched.
 */
export function searchDecls(decls: readonly ApiDecl[], query: string): ApiDecl[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [...decls];
  const hit = (d: ApiDecl) => {
    const hay = `${d.name}\n${d.signature}\n${d.doc}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  };
  const out: ApiDecl[] = [];
  for (const d of decls) {
    if (hit(d)) out.push(d);
    else if (d.members) {
      const members = d.members.filter(hit);
      if (members.length) out.push({ ...d, members });
    }
  }
  // Exact names first: searching `iommu_map` shows iommu_map before iommu_map_sg.
  const q = query.trim().toLowerCase();
  return out.sort((a, b) => Number(b.name.toLowerCase() === q) - Number(a.name.toLowerCase() === q));
}
