/**
 * What the Trace panel filters by, kept outside the component so moving or hiding the panel keeps
 * it; the schema the rows are formatted with (fixed for an engine build, fetched once); the CSV
 * export.
 */
import type { TraceFilter, TraceSchema } from '../../engine/host/protocol.ts';
import labApi from '../../engine/script/iommu-lab.d.ts?raw';
import { errnoNames, parseDts } from './dts-reference.ts';
import { engineClient } from './lab-controller.ts';
import { saveFile } from './save-file.ts';
import { TRACE_KINDS, traceFormat, type TraceEvent, type TraceFormat } from './trace-format.ts';

type Kind = TraceEvent['kind'];

class TraceView {
  /** Kinds shown; all by default. */
  kinds = $state<Kind[]>([...TRACE_KINDS]);
  device = $state('');
  domain = $state('');
  /** Search text as typed; `search` follows it after a pause. */
  text = $state('');
  search = $state('');
  format = $state.raw<TraceFormat | null>(null);
  exporting = $state<string | null>(null);

  /** The filter the engine applies, from the controls. */
  get filter(): TraceFilter {
    const f: TraceFilter = {};
    if (this.kinds.length !== TRACE_KINDS.length) f.kinds = [...this.kinds];
    // The device box matches as a filter box does: `nic` finds nic0 and nic1, in any case.
    if (this.device.trim()) f.fieldsContain = { device: this.device.trim() };
    const domain = this.domain.trim();
    if (domain !== '' && Number.isSafeInteger(Number(domain))) f.fields = { domain: Number(domain) };
    if (this.search.trim()) f.text = this.search.trim();
    return f;
  }

  get filtered(): boolean {
    return Object.keys(this.filter).length > 0;
  }

  toggleKind(kind: Kind, on: boolean): void {
    const now = new Set(this.kinds);
    if (on) now.add(kind);
    else now.delete(kind);
    this.kinds = TRACE_KINDS.filter((k) => now.has(k));
  }

  /** Only this kind (or all again, when it is already the only one). */
  soloKind(kind: Kind): void {
    this.kinds = this.kinds.length === 1 && this.kinds[0] === kind ? [...TRACE_KINDS] : [kind];
  }

  clear(): void {
    this.kinds = [...TRACE_KINDS];
    this.device = this.domain = this.text = this.search = '';
  }

  /** The schema, asked once per window (the engine's events and API do not change while it runs). */
  async loadFormat(): Promise<TraceFormat> {
    if (this.format) return this.format;
    const schema = (await engineClient().request<'query'>({
      type: 'query',
      query: { what: 'trace-schema' },
    })) as TraceSchema;
    this.format = traceFormat(schema, errnoNames(parseDts(labApi)));
    return this.format;
  }
}

export const traceView = new TraceView();

/** Rows per CSV window: large enough to be quick, small enough that no one message is huge. */
const CSV_WINDOW = 50_000;

/** Save the rows the filter shows as CSV (the engine formats them; fetched a window at a time). */
export async function exportTraceCsv(filter: TraceFilter, fileStem: string): Promise<void> {
  if (traceView.exporting) return;
  const parts: string[] = [];
  traceView.exporting = 'CSV…';
  try {
    for (let offset = 0, total = Infinity; offset < total; offset += CSV_WINDOW) {
      const w = (await engineClient().request<'query'>({
        type: 'query',
        query: { what: 'trace-csv', offset, limit: CSV_WINDOW, filter },
      })) as { total: number; text: string };
      total = w.total;
      parts.push(w.text);
      if (total > CSV_WINDOW)
        traceView.exporting = `CSV ${Math.round((100 * (offset + CSV_WINDOW)) / total)}%`;
      if (total === 0) break;
    }
    saveFile(parts, `${fileStem}-trace.csv`, 'text/csv');
  } finally {
    traceView.exporting = null;
  }
}
