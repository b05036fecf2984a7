/**
 * Small values kept in the browser between visits: localStorage first (synchronous, so a write in
 * `pagehide` or `beforeunload` still lands), IndexedDB when a value is too big for localStorage's few
 * megabytes. Reads look in both. Failures are reported as false, never thrown: the editor keeps its
 * text whatever storage does.
 */
const DB = 'iommu-lab';
const STORE = 'kv';

function idb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function idbDo<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await idb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export const browserStore = {
  /** Keep `value` under `key`; true once it is stored (localStorage) or handed to IndexedDB. */
  put(key: string, value: string): boolean {
    try {
      localStorage.setItem(key, value);
      void idbDo('readwrite', (s) => s.delete(key)).catch(() => {});
      return true;
    } catch {
      // Too big (or storage disabled): IndexedDB holds much more.
      try {
        localStorage.removeItem(key);
      } catch {
        // nothing to remove
      }
      if (typeof indexedDB === 'undefined') return false;
      void idbDo('readwrite', (s) => s.put(value, key)).catch((e: unknown) =>
        console.warn(`could not keep ${key} in IndexedDB:`, e),
      );
      return true;
    }
  },

  async get(key: string): Promise<string | null> {
    try {
      const v = localStorage.getItem(key);
      if (v !== null) return v;
    } catch {
      // fall through to IndexedDB
    }
    if (typeof indexedDB === 'undefined') return null;
    try {
      const v = await idbDo<unknown>('readonly', (s) => s.get(key));
      return typeof v === 'string' ? v : null;
    } catch {
      return null;
    }
  },

  /** Every key that starts with `prefix`, in either store. */
  async keys(prefix: string): Promise<string[]> {
    const out = new Set<string>();
    try {
      for (let i = 0; i < localStorage.length; i++) {
        const k = localStorage.key(i);
        if (k?.startsWith(prefix)) out.add(k);
      }
    } catch {
      // storage disabled
    }
    if (typeof indexedDB !== 'undefined') {
      try {
        const all = await idbDo<IDBValidKey[]>('readonly', (s) => s.getAllKeys());
        for (const k of all) if (typeof k === 'string' && k.startsWith(prefix)) out.add(k);
      } catch {
        // no IndexedDB here: localStorage's keys are all there are
      }
    }
    return [...out];
  },

  remove(key: string): void {
    try {
      localStorage.removeItem(key);
    } catch {
      // storage disabled
    }
    if (typeof indexedDB !== 'undefined') void idbDo('readwrite', (s) => s.delete(key)).catch(() => {});
  },
};

/**
 * Values that only IndexedDB can keep: anything the structured clone takes, such as File System
 * Access handles (Chromium stores them, so a file can be reopened after a reload). Same database,
 * its own keys; failures are reported, never thrown.
 */
export const browserObjects = {
  async get(key: string): Promise<unknown> {
    if (typeof indexedDB === 'undefined') return undefined;
    try {
      return await idbDo<unknown>('readonly', (s) => s.get(key));
    } catch {
      return undefined;
    }
  },

  /** True once IndexedDB has it. */
  async put(key: string, value: unknown): Promise<boolean> {
    if (typeof indexedDB === 'undefined') return false;
    try {
      await idbDo('readwrite', (s) => s.put(value, key));
      return true;
    } catch (e) {
      console.warn(`could not keep ${key} in IndexedDB:`, e);
      return false;
    }
  },
};
