import { describe, expect, it } from 'vitest';
import { MAX_RECENT, parseRecent, withoutRecent, withRecent, type RecentEntry } from './recent-list.ts';

/** A stand-in for FileSystemFileHandle: two handles are the same entry when their paths are equal. */
class FakeHandle {
  constructor(readonly path: string) {}
  get name(): string {
    return this.path.split('/').pop() ?? this.path;
  }
  isSameEntry(other: FakeHandle): Promise<boolean> {
    return Promise.resolve(other.path === this.path);
  }
}

const entry = (path: string, at: number): RecentEntry<FakeHandle> => {
  const handle = new FakeHandle(path);
  return { handle, name: handle.name, at };
};
const paths = (list: RecentEntry<FakeHandle>[]) => list.map((e) => e.handle.path);

describe('recent sessions list', () => {
  it('puts the newest first', async () => {
    let list: RecentEntry<FakeHandle>[] = [];
    list = await withRecent(list, entry('/a.iommulab', 1));
    list = await withRecent(list, entry('/b.iommulab', 2));
    list = await withRecent(list, entry('/c.iommulab', 3));
    expect(paths(list)).toEqual(['/c.iommulab', '/b.iommulab', '/a.iommulab']);
  });

  it('keeps one entry per file, compared with isSameEntry, and moves it to the front', async () => {
    let list = [entry('/b.iommulab', 2), entry('/a.iommulab', 1)];
    // A new handle object for a file already listed (picked again, or read back after a reload).
    list = await withRecent(list, entry('/a.iommulab', 5));
    expect(paths(list)).toEqual(['/a.iommulab', '/b.iommulab']);
    expect(list[0]?.at).toBe(5);
    // Two files with the same name in different folders are two entries.
    list = await withRecent(list, entry('/other/a.iommulab', 6));
    expect(list.map((e) => e.name)).toEqual(['a.iommulab', 'a.iommulab', 'b.iommulab']);
  });

  it(`keeps at most ${MAX_RECENT}, dropping the oldest`, async () => {
    let list: RecentEntry<FakeHandle>[] = [];
    for (let i = 0; i < MAX_RECENT + 3; i++) list = await withRecent(list, entry(`/s${i}.iommulab`, i));
    expect(list).toHaveLength(MAX_RECENT);
    expect(list[0]?.handle.path).toBe(`/s${MAX_RECENT + 2}.iommulab`);
    expect(list.at(-1)?.handle.path).toBe('/s3.iommulab');
  });

  it('removes a file, and a handle that cannot be compared counts as another file', async () => {
    const broken = { name: 'gone.iommulab', isSameEntry: () => Promise.reject(new Error('NotFoundError')) };
    const list = [entry('/a.iommulab', 2), entry('/b.iommulab', 1)];
    expect(paths(await withoutRecent(list, new FakeHandle('/a.iommulab')))).toEqual(['/b.iommulab']);
    const mixed = await withRecent<FakeHandle | typeof broken>(list, {
      handle: broken,
      name: broken.name,
      at: 3,
    });
    expect(mixed.map((e) => e.name)).toEqual(['gone.iommulab', 'a.iommulab', 'b.iommulab']);
  });

  it('reads back only well-formed entries, newest first, capped', () => {
    expect(parseRecent(undefined)).toEqual([]);
    expect(parseRecent('not a list')).toEqual([]);
    const good = [entry('/old.iommulab', 1), entry('/new.iommulab', 9)];
    const stored = [...good, null, { name: 'x', at: 1 }, { name: 'y', at: 'soon', handle: good[0]?.handle }];
    expect(parseRecent(stored).map((e) => e.name)).toEqual(['new.iommulab', 'old.iommulab']);
    const many = Array.from({ length: 20 }, (_, i) => entry(`/m${i}.iommulab`, i));
    expect(parseRecent(many)).toHaveLength(MAX_RECENT);
  });
});
