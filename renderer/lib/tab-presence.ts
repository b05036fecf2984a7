/**
 * Which browser tabs of the lab are open now, so each keeps its unsaved work in a slot of its own
 * (session-browser.ts) and a new tab offers back only the work of tabs that are gone.
 *
 * A tab's id lives in sessionStorage: a reload keeps it, a new tab gets a new one. While the page
 * lives it holds a Web Lock named after the id; the browser drops it when the tab closes or crashes,
 * so the locks held are the tabs open, background and frozen ones too, with no timers to miss. A
 * duplicated tab (the browser copies sessionStorage) finds its id's lock held and takes a new id.
 * Where there are no Web Locks (a page served over plain http from another host is not a secure
 * context), open tabs answer a BroadcastChannel roll call instead.
 */
const ID_KEY = 'iommu-lab.tab-id';
const LOCK_PREFIX = 'iommu-lab.tab.';
const CLAIM_LOCK = 'iommu-lab.autosave-claim';
const CHANNEL = 'iommu-lab.tabs';
/** How long a reloading tab waits for its own old page to let go of its id. */
const RELOAD_WAIT_MS = 1500;
/** How long a roll call waits for answers (fallback only). */
const ROLL_CALL_MS = 300;

export interface TabPresence {
  /** This tab's id. */
  readonly id: string;
  /** The ids of the lab's tabs open now, this one included. */
  liveIds(): Promise<Set<string>>;
  /** Run `fn` while no other tab runs one (claiming a closed tab's work happens once). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

interface LockManagerLike {
  request(name: string, opts: object, cb: (lock: unknown) => unknown): Promise<unknown>;
  request(name: string, cb: (lock: unknown) => unknown): Promise<unknown>;
  query(): Promise<{ held?: { name?: string }[] }>;
}

const newId = (): string => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

function storedId(): string | null {
  try {
    return sessionStorage.getItem(ID_KEY);
  } catch {
    return null;
  }
}

function keepId(id: string): void {
  try {
    sessionStorage.setItem(ID_KEY, id);
  } catch {
    // no sessionStorage: this page's id lasts as long as the page
  }
}

/** Hold `name` for the page's life; false when another page holds it (after `waitMs`). */
function hold(locks: LockManagerLike, name: string, waitMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const forever = (lock: unknown): Promise<void> | undefined => {
      if (!lock) {
        resolve(false);
        return undefined;
      }
      resolve(true);
      return new Promise<void>(() => {});
    };
    if (waitMs <= 0) {
      void locks.request(name, { ifAvailable: true }, forever).catch(() => resolve(false));
      return;
    }
    const signal = AbortSignal.timeout(waitMs);
    void locks.request(name, { signal }, forever).catch(() => resolve(false));
  });
}

async function withLocks(locks: LockManagerLike): Promise<TabPresence> {
  let id = storedId();
  // A reload: the page before this one may still be letting go of the id. A duplicated tab: the tab
  // it was copied from keeps it, and this one becomes a tab of its own.
  if (!id || !(await hold(locks, LOCK_PREFIX + id, RELOAD_WAIT_MS))) {
    do id = newId();
    while (!(await hold(locks, LOCK_PREFIX + id, 0)));
  }
  keepId(id);
  return {
    id,
    async liveIds() {
      const { held = [] } = await locks.query();
      const ids = held
        .map((l) => l.name ?? '')
        .filter((n) => n.startsWith(LOCK_PREFIX))
        .map((n) => n.slice(LOCK_PREFIX.length));
      return new Set([...ids, id!]);
    },
    exclusive: <T>(fn: () => Promise<T>) => locks.request(CLAIM_LOCK, () => fn()) as Promise<T>,
  };
}

type RollCall = { who: string } | { here: string };

async function withChannel(): Promise<TabPresence> {
  const channel = new BroadcastChannel(CHANNEL);
  const ask = async (asker: string): Promise<Set<string>> => {
    const seen = new Set<string>();
    const listen = (e: MessageEvent<RollCall>): void => {
      if ('here' in e.data) seen.add(e.data.here);
    };
    channel.addEventListener('message', listen);
    channel.postMessage({ who: asker } satisfies RollCall);
    await new Promise((r) => setTimeout(r, ROLL_CALL_MS));
    channel.removeEventListener('message', listen);
    return seen;
  };
  let id = storedId() ?? newId();
  if ((await ask(id)).has(id)) id = newId();
  keepId(id);
  channel.addEventListener('message', (e: MessageEvent<RollCall>) => {
    if ('who' in e.data) channel.postMessage({ here: id } satisfies RollCall);
  });
  return {
    id,
    liveIds: async () => new Set([...(await ask(id)), id]),
    exclusive: (fn) => fn(),
  };
}

let joined: Promise<TabPresence> | null = null;

/** This tab among the lab's open tabs (once per page). */
export function joinTabs(): Promise<TabPresence> {
  joined ??= (async () => {
    const locks = (navigator as { locks?: LockManagerLike }).locks;
    if (locks) return withLocks(locks);
    if (typeof BroadcastChannel !== 'undefined') return withChannel();
    // Neither: every other tab's work counts as left behind, as with one slot for all.
    const id = storedId() ?? newId();
    keepId(id);
    return { id, liveIds: async () => new Set([id]), exclusive: (fn) => fn() };
  })();
  return joined;
}
