/**
 * Migrations, one test per step from stored fixtures: a version-n file loads as the stored
 * current-version file says, and every version from the oldest to the newest has its schema, its
 * step and a fixture.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FORMAT_VERSION, OLDEST_FORMAT_VERSION, schemaId } from './format.ts';
import { loadSession } from './load.ts';
import { MIGRATIONS, SCHEMAS } from './migrate.ts';
import { serializeSession } from './save.ts';
import { validate } from './json-schema.ts';

const dir = new URL('./fixtures/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, dir), 'utf8');

describe('the chain of versions', () => {
  it('has a schema for every version and a step from every older one', () => {
    for (let v = OLDEST_FORMAT_VERSION; v <= FORMAT_VERSION; v++) {
      expect(SCHEMAS[v], `schema ${v}`).toBeDefined();
      expect(SCHEMAS[v]!.$id).toBe(schemaId(v));
      expect((SCHEMAS[v]!.properties!.formatVersion as { const: number }).const).toBe(v);
      if (v < FORMAT_VERSION) expect(MIGRATIONS[v], `step ${v} → ${v + 1}`).toBeTypeOf('function');
    }
    expect(MIGRATIONS[FORMAT_VERSION]).toBeUndefined();
  });

  it('has a fixture for every older version, with the file it must become', () => {
    const files = readdirSync(dir);
    for (let v = OLDEST_FORMAT_VERSION; v < FORMAT_VERSION; v++) {
      const olds = files.filter((f) => f.startsWith(`v${v}-`) && !f.includes('.v'));
      expect(olds.length, `fixtures of version ${v}`).toBeGreaterThan(0);
      for (const f of olds) expect(files).toContain(f.replace('.iommulab', `.v${FORMAT_VERSION}.iommulab`));
    }
  });
});

describe('1 → 2', () => {
  it.each(['v1-minimal', 'v1-full'])('%s becomes the stored version 2 file', (name) => {
    const old = fixture(`${name}.iommulab`);
    expect(JSON.parse(old).formatVersion).toBe(1);
    expect(validate(SCHEMAS[1]!, JSON.parse(old))).toBeNull();
    const r = loadSession(old);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.formatVersion).toBe(1);
    expect(serializeSession(r.session)).toBe(fixture(`${name}.v2.iommulab`));
    // The migrated file is a good version 2 file that loads to the same session.
    const again = loadSession(fixture(`${name}.v2.iommulab`));
    expect(again.ok && again.session).toEqual(r.session);
  });

  it('one script becomes the active main.ts tab; the kernel number its profile; check switches the list of those off', () => {
    const doc = MIGRATIONS[1]!(JSON.parse(fixture('v1-full.iommulab')));
    expect(doc).toEqual({
      $schema: 'urn:iommu-lab:session:2',
      formatVersion: 2,
      scripts: [{ name: 'main.ts', source: expect.stringContaining("expect(lab.kernel()).toBe('v6.6')") }],
      activeScript: 'main.ts',
      kernel: 'v6.6',
      seed: 1234,
      params: { driver: 'amd-iommu', iova: '0x10000' },
      disabledChecks: ['map-overlaps-reserved', 'stale-iotlb-hit'],
      notes: 'Map before attach on AMD under v6.6.\nSee the 2023 thread.',
    });
    for (const [n, name] of [
      [606, 'v6.6'],
      [608, 'v6.8'],
      [616, 'v6.16'],
    ] as const)
      expect(MIGRATIONS[1]!({ formatVersion: 1, script: '', kernel: n }).kernel).toBe(name);
  });

  it('a damaged version 1 file says what is wrong, as a version 1 file', () => {
    const bad = (doc: object) => {
      const r = loadSession(JSON.stringify(doc));
      return r.ok ? 'loaded' : `${r.error.path}: ${r.error.message}`;
    };
    expect(bad({ formatVersion: 1 })).toBe('script: script is missing (in a format 1 file)');
    expect(bad({ formatVersion: 1, script: 1 })).toBe(
      'script: script must be a string (found 1) (in a format 1 file)',
    );
    expect(bad({ formatVersion: 1, script: '', kernel: 607 })).toBe(
      'kernel: kernel must be one of 606, 608, 616 (found 607) (in a format 1 file)',
    );
    expect(bad({ formatVersion: 1, script: '', kernel: 'v6.8' })).toMatch(
      /^kernel: kernel must be one of 606/,
    );
    expect(bad({ formatVersion: 1, script: '', checks: { 'stale-iotlb-hit': 'off' } })).toBe(
      'checks["stale-iotlb-hit"]: checks["stale-iotlb-hit"] must be true or false (found "off") (in a format 1 file)',
    );
    // Version 2's fields are not version 1's.
    expect(bad({ formatVersion: 1, script: '', scripts: [] })).toMatch(
      /^scripts: scripts is not a field of a version 1 session/,
    );
  });
});
