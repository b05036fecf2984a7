import { describe, expect, it } from 'vitest';
import { keyHelp } from './keys.ts';

const row = (host: 'desktop' | 'browser', keys: string) => keyHelp(host).find((r) => r.keys === keys);

describe('Help → Keys says what works where the lab runs', () => {
  it('save and open work in both modes', () => {
    for (const host of ['desktop', 'browser'] as const) {
      expect(row(host, 'Mod+S, Mod+Shift+S')).toEqual({
        keys: 'Mod+S, Mod+Shift+S',
        does: 'Save the session, save it as',
      });
      expect(row(host, 'Mod+O')).toEqual({ keys: 'Mod+O', does: 'Open a session' });
    }
  });

  it('a new session by key in the desktop app; in a browser, which keeps Ctrl+N, by the toolbar', () => {
    expect(row('desktop', 'Mod+N')).toEqual({ keys: 'Mod+N', does: 'New session' });
    expect(row('browser', 'Mod+N')?.where).toMatch(/keeps this key for a new window: use New on the toolbar/);
  });

  it('the panel keys are the desktop menu’s; a browser has the View menu', () => {
    expect(row('desktop', 'Mod+B, Mod+J')?.where).toBe('desktop app');
    expect(row('browser', 'Mod+B, Mod+J')?.where).toMatch(/View menu/);
  });
});
