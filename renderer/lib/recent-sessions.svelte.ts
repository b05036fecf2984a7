/**
 * The browser's recent sessions: the File System Access handles of the files opened or saved last,
 * kept in IndexedDB (the only storage that can hold a handle) so they can be reopened after a reload.
 * Files opened with the plain file input or dropped have no handle and are not listed. The desktop
 * app keeps its recent files in main; there this store stays disabled.
 */
import { browserObjects } from './browser-store.ts';
import { parseRecent, withoutRecent, withRecent, type RecentEntry, type SameEntry } from './recent-list.ts';

const KEY = 'iommu-lab.session.recent.v1';

class RecentSessions {
  /** Newest first. Raw: a handle must reach IndexedDB as it is (a reactive proxy cannot be cloned). */
  list = $state.raw<RecentEntry[]>([]);
  /** Browser mode with the File System Access API: the toolbar shows the recent menu. */
  enabled = $state(false);
  /** Changes one at a time, each from what storage holds now (another tab of the lab may have written). */
  private queue: Promise<unknown> = Promise.resolve();

  enable(): Promise<void> {
    this.enabled = true;
    return this.refresh();
  }

  refresh(): Promise<void> {
    return this.update((list) => list);
  }

  remember(handle: SameEntry): Promise<void> {
    return this.update((list) => withRecent(list, { handle, name: handle.name, at: Date.now() }));
  }

  forget(handle: SameEntry): Promise<void> {
    return this.update((list) => withoutRecent(list, handle));
  }

  clear(): Promise<void> {
    return this.update(() => []);
  }

  private update(change: (list: RecentEntry[]) => RecentEntry[] | Promise<RecentEntry[]>): Promise<void> {
    const next = this.queue.then(async () => {
      const stored = parseRecent(await browserObjects.get(KEY));
      const list = await change(stored);
      if (list !== stored) await browserObjects.put(KEY, list);
      this.list = list;
    });
    this.queue = next.catch((e: unknown) => console.warn('recent sessions:', e));
    return this.queue as Promise<void>;
  }
}

export const recentSessions = new RecentSessions();
