import { describe, expect, it } from 'vitest';
import { tabKeyTarget } from './tablist-keys.ts';

const key = (k: string, mods: Partial<KeyboardEvent> = {}) => ({ key: k, ...mods }) as KeyboardEvent;

describe('tab strip keys', () => {
  const tabs = ['a', 'b', 'c'];
  it('Home and End go to the first and the last tab', () => {
    expect(tabKeyTarget(key('Home'), tabs, 'b')).toBe('a');
    expect(tabKeyTarget(key('End'), tabs, 'a')).toBe('c');
  });
  it('arrows move and wrap', () => {
    expect(tabKeyTarget(key('ArrowRight'), tabs, 'c')).toBe('a');
    expect(tabKeyTarget(key('ArrowLeft'), tabs, 'a')).toBe('c');
  });
  it('other keys and modified ones are not the strip’s', () => {
    expect(tabKeyTarget(key('Enter'), tabs, 'a')).toBeUndefined();
    expect(tabKeyTarget(key('End', { ctrlKey: true }), tabs, 'a')).toBeUndefined();
  });
});
