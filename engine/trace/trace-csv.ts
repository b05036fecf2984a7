import { eventById } from './events.ts';
import type { TraceFilter } from './filter.ts';
import { csvCell } from './format.ts';
import type { Trace } from './trace.ts';

/**
 * The matching events as CSV: `index,step,kind,name`, then one column per field name that any
 * matching event has (blank where an event lacks it or holds nothing, as a call's argument not
 * passed), values as the Trace panel shows them.
 * Yields a piece every `rowsPerPiece` rows.
 */
export function* traceCSV(trace: Trace, filter?: TraceFilter, rowsPerPiece = 4096): Generator<string> {
  const present = new Set<number>();
  trace.forEachMatch(filter, (i) => present.add(trace.idAt(i)));
  const columns: string[] = [];
  for (const id of [...present].sort((x, y) => x - y))
    for (const f of eventById(id).fields) if (!columns.includes(f.name)) columns.push(f.name);
  const columnOf = new Map(columns.map((c, k) => [c, k]));
  yield ['index', 'step', 'kind', 'name', ...columns].map(csvCell).join(',') + '\n';

  const cells: string[] = new Array(columns.length);
  for (let offset = 0; ; offset += rowsPerPiece) {
    const { indices } = trace.indices(offset, rowsPerPiece, filter);
    if (!indices.length) return;
    let piece = '';
    for (const i of indices) {
      const def = eventById(trace.idAt(i));
      cells.fill('');
      for (let k = 0; k < def.fields.length; k++)
        cells[columnOf.get(def.fields[k].name)!] = csvCell(trace.text(i, k));
      piece += `${i},${trace.stepAt(i)},${def.kind},${csvCell(def.name)}`;
      piece += columns.length ? ',' + cells.join(',') + '\n' : '\n';
    }
    yield piece;
  }
}
