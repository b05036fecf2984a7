/**
 * The browser's recent sessions as plain data: which files (File System Access handles) were opened
 * or saved last, newest first. No DOM and no storage here, so the rules — order, a cap, one entry per
 * file — are tested in Node with stand-in handles (recent-list.test.ts).
 */
export const MAX_RECENT = 8;

/** What a recent entry needs from a FileSystemFileHandle. */
export interface SameEntry {
  readonly name: string;
  isSameEntry(other: never): Promise<boolean>;
}

export interface RecentEntry<H extends SameEntry = SameEntry> {
  handle: H;
  name: string;
  /** When the file was last opened or saved (ms since the epoch). */
  at: number;
}

async function same<H extends SameEntry>(a: H, b: H): Promise<boolean> {
  try {
    return await a.isSameEntry(b as never);
  } catch {
    // A handle the browser can no longer compare is not this file.
    return false;
  }
}

/**
 * `entry` first, then the others that are not the same file, at most `max`. The same file can come
 * back as a different handle object (a new pick, a reload): isSameEntry, not identity, decides.
 */
export async function withRecent<H extends SameEntry>(
  list: readonly RecentEntry<H>[],
  entry: RecentEntry<H>,
  max = MAX_RECENT,
): Promise<RecentEntry<H>[]> {
  return [entry, ...(await withoutRecent(list, entry.handle))].slice(0, max);
}

/** The list without `handle`'s file. */
export async function withoutRecent<H extends SameEntry>(
  list: readonly RecentEntry<H>[],
  handle: H,
): Promise<RecentEntry<H>[]> {
  const out: RecentEntry<H>[] = [];
  for (const e of list) if (e.handle !== handle && !(await same(e.handle, handle))) out.push(e);
  return out;
}

/**
 * The stored list as far as it can be trusted: storage written by another version, or damaged, must
 * not break the menu. Entries without a comparable handle are dropped; newest first, at most `max`.
 */
export function parseRecent(raw: unknown, max = MAX_RECENT): RecentEntry[] {
  if (!Array.isArray(raw)) return [];
  const ok = raw.filter(
    (e): e is RecentEntry =>
      typeof e === 'object' &&
      e !== null &&
      typeof (e as RecentEntry).name === 'string' &&
      Number.isFinite((e as RecentEntry).at) &&
      typeof (e as RecentEntry).handle?.isSameEntry === 'function',
  );
  return ok.sort((a, b) => b.at - a.at).slice(0, max);
}
