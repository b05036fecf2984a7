/**
 * Keys of a tab strip (WAI-ARIA tabs pattern): Left/Right move to the previous/next tab and wrap,
 * Home/End go to the first/last. keys.ts leaves Home/End to every tab strip, so each strip answers them.
 */
export function tabKeyTarget<T>(e: KeyboardEvent, items: readonly T[], current: T): T | undefined {
  if (e.ctrlKey || e.metaKey || e.altKey || e.shiftKey || items.length === 0) return undefined;
  const i = items.indexOf(current);
  const n = items.length;
  if (e.key === 'ArrowRight') return items[(i + 1) % n];
  if (e.key === 'ArrowLeft') return items[(i - 1 + n) % n];
  if (e.key === 'Home') return items[0];
  if (e.key === 'End') return items[n - 1];
  return undefined;
}
