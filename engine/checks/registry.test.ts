import { describe, expect, it } from 'vitest';
import { CHECK_IDS } from '../core/checks.ts';
import { CHECK_DOCS, facts_sections } from './registry.ts';

describe('CHECK_DOCS', () => {
  it('has a page for every check id, and none for ids that do not exist', () => {
    expect(Object.keys(CHECK_DOCS).sort()).toEqual([...CHECK_IDS].sort());
  });

  it.each([...CHECK_IDS])('%s: a title, a doc that says what to do, and a facts section', (id) => {
    const doc = CHECK_DOCS[id];
    expect(doc.title.length).toBeGreaterThan(10);
    expect(doc.doc.length).toBeGreaterThan(150);
    expect(doc.facts).toMatch(/^IOMMU-FACTS §\d/);
    expect(facts_sections(doc).length).toBeGreaterThan(0);
  });

  it.each([
    ['map-before-attach-failed', '§6 (a)', ['virtio', 'arm-smmu-v3', 'v6.9', 'omap', 'tegra-gart', 'Intel']],
    ['mappings-lost-on-detach', '§6 (b)', ['tegra-gart', 'omap']],
    ['attach-time-finalise', '§6 (c)', ['virtio', 'v6.16', 'arm-smmu-v3', 'v6.9']],
    ['direct-mapping-after-attach', '§6 (d)', ['virtio', 'arm-smmu-v3']],
  ] as const)('%s names its debate invariant and the drivers that break it', (id, section, names) => {
    const doc = CHECK_DOCS[id];
    expect(facts_sections(doc)).toContain(section);
    for (const n of names) expect(doc.drivers).toContain(n);
  });
});
