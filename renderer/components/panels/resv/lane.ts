import type { MappingRow, ResvRow } from '../../../../engine/host/protocol.ts';

/** One device's row of the address bar. */
export interface Lane {
  name: string;
  note: string;
  aperture: { start: number; end: number } | null;
  regions: ResvRow[];
  mappings: MappingRow[];
}
