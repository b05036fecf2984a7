/**
 * Colours the state panels draw with, per theme: reserved-region types (Linux's sysfs words),
 * mappings, IOTLB entry states. Set as CSS variables on a panel's root, so an exported panel
 * carries them.
 */
export type ThemeName = 'light' | 'dark';

const LIGHT = {
  direct: '#2f6fb0',
  'direct-relaxable': '#2a8c8c',
  reserved: '#8a6a3a',
  msi: '#8452b0',
  mapping: '#2e7d4f',
  aperture: '#8c9199',
  overlap: '#c62f24',
  stale: '#b46a00',
  negative: '#7a7f88',
  hit: '#2e7d4f',
  miss: '#9aa0a8',
  fault: '#c62f24',
} as const;

const DARK: Record<keyof typeof LIGHT, string> = {
  direct: '#5c9fe0',
  'direct-relaxable': '#4fbcbc',
  reserved: '#c09a5e',
  msi: '#b28ae0',
  mapping: '#6cc08b',
  aperture: '#7d838c',
  overlap: '#f07169',
  stale: '#e0a24a',
  negative: '#8a9099',
  hit: '#6cc08b',
  miss: '#6d737c',
  fault: '#f07169',
};

export type PaletteKey = keyof typeof LIGHT;

export function palette(theme: ThemeName): Record<PaletteKey, string> {
  return theme === 'dark' ? DARK : LIGHT;
}

/** `--c-direct: …; --c-msi: …` for a style attribute. */
export function paletteVars(theme: ThemeName): string {
  return Object.entries(palette(theme))
    .map(([k, v]) => `--c-${k}:${v}`)
    .join(';');
}

/** The colour key of a reserved region's sysfs type word. */
export function resvKey(typeName: string): PaletteKey {
  return typeName === 'direct' ||
    typeName === 'direct-relaxable' ||
    typeName === 'reserved' ||
    typeName === 'msi'
    ? typeName
    : 'reserved';
}
