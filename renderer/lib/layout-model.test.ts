import { describe, expect, it } from 'vitest';
import {
  closePanel,
  defaultLayout,
  isShown,
  locate,
  movePanel,
  movePanelToDock,
  parseLayout,
  resizeGroups,
  showPanel,
} from './layout-model.ts';

const IDS = ['console', 'domains', 'resv', 'iotlb', 'trace', 'checks', 'matrix', 'help'];

describe('default layout', () => {
  it('shows Domains, Reserved regions, IOTLB and Console at once', () => {
    const m = defaultLayout(IDS);
    for (const p of ['domains', 'resv', 'iotlb', 'console']) expect(isShown(m, p), p).toBe(true);
    expect(m.docks.right.map((g) => g.panels)).toEqual([['domains', 'matrix', 'help'], ['resv'], ['iotlb']]);
    expect(m.docks.bottom.map((g) => g.panels)).toEqual([['console', 'trace', 'checks']]);
    expect(m.docks.right.reduce((s, g) => s + g.size, 0)).toBeCloseTo(1);
  });

  it('does not depend on the registry order for its groups', () => {
    const m = defaultLayout([...IDS].reverse());
    expect(m.docks.right.map((g) => g.active)).toEqual(['domains', 'resv', 'iotlb']);
  });

  it('puts a panel it does not know in the bottom dock', () => {
    expect(locate(defaultLayout(['console', 'new-one']), 'new-one')?.dock).toBe('bottom');
  });
});

describe('parseLayout', () => {
  it('round-trips through JSON', () => {
    const m = defaultLayout(IDS);
    movePanel(m, 'iotlb', 'bottom', 0);
    closePanel(m, 'checks');
    expect(parseLayout(JSON.stringify(m), IDS)).toEqual(m);
  });

  it.each([
    ['not JSON', '{'],
    ['null', null],
    ['a number', 3],
    ['an old version', { version: 1, sideWidth: 0.4 }],
    ['a width out of range', { ...defaultLayout(IDS), rightWidth: 3 }],
    ['a NaN height', { ...defaultLayout(IDS), bottomHeight: NaN }],
    ['docks not an object', { ...defaultLayout(IDS), docks: [] }],
    [
      'a group without panels',
      { ...defaultLayout(IDS), docks: { right: [{ active: 'x', size: 1 }], bottom: [] } },
    ],
    ['an unknown dock hidden', { ...defaultLayout(IDS), hidden: ['left'] }],
  ])('refuses %s', (_what, raw) => {
    expect(parseLayout(raw, IDS)).toBeNull();
  });

  it('drops panels that no longer exist and adds new ones in their default place', () => {
    const stored = defaultLayout(['console', 'domains', 'gone']);
    movePanel(stored, 'gone', 'right', 0);
    const m = parseLayout(stored, IDS)!;
    expect(locate(m, 'gone')).toBeNull();
    expect(isShown(m, 'iotlb')).toBe(true);
    expect(m.docks.right[0]!.active).toBe('domains');
  });

  it('keeps a closed panel closed', () => {
    const stored = defaultLayout(IDS);
    closePanel(stored, 'resv');
    const m = parseLayout(stored, IDS)!;
    expect(locate(m, 'resv')).toBeNull();
    expect(m.docks.right).toHaveLength(2);
  });
});

describe('operations', () => {
  it('moves a panel between docks, and an emptied group goes away', () => {
    const m = defaultLayout(IDS);
    movePanelToDock(m, 'iotlb', 'bottom');
    expect(locate(m, 'iotlb')).toMatchObject({ dock: 'bottom', index: 0 });
    expect(m.docks.right).toHaveLength(2);
    expect(isShown(m, 'iotlb')).toBe(true);
    expect(isShown(m, 'console')).toBe(false);
  });

  it('splits a panel into a new group', () => {
    const m = defaultLayout(IDS);
    movePanel(m, 'trace', 'bottom', 1, true);
    expect(m.docks.bottom.map((g) => g.panels)).toEqual([['console', 'checks'], ['trace']]);
    expect(m.docks.bottom.reduce((s, g) => s + g.size, 0)).toBeCloseTo(1);
  });

  it('closes and reopens a panel where it started', () => {
    const m = defaultLayout(IDS);
    closePanel(m, 'resv');
    expect(m.closed).toEqual(['resv']);
    showPanel(m, 'resv');
    expect(m.closed).toEqual([]);
    expect(isShown(m, 'resv')).toBe(true);
    expect(locate(m, 'resv')?.dock).toBe('right');
  });

  it('reopens into an empty dock', () => {
    const m = defaultLayout(['console']);
    closePanel(m, 'console');
    expect(m.docks.bottom).toEqual([]);
    showPanel(m, 'console');
    expect(m.docks.bottom).toEqual([{ panels: ['console'], active: 'console', size: 1 }]);
  });

  it('resizes two neighbouring groups and keeps both above the minimum', () => {
    const m = defaultLayout(IDS);
    resizeGroups(m, 'right', 0, 0.6);
    expect(m.docks.right[0]!.size).toBeCloseTo(0.6);
    expect(m.docks.right[1]!.size).toBeCloseTo(0.12);
    expect(m.docks.right[2]!.size).toBeCloseTo(0.28);
    resizeGroups(m, 'right', 0, 0.99);
    expect(m.docks.right[1]!.size).toBeCloseTo(0.08);
  });
});
