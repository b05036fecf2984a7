/**
 * Keyboard for the toolbar's small menus (View, a panel group's ⋯, recent sessions), as WAI-ARIA's
 * menu button pattern has it: arrows move between the items and wrap, Home/End jump, Escape closes
 * and gives focus back to the button, Tab closes and lets focus move on.
 */
const ITEMS = '[role^=menuitem]:not([disabled])';

export function focusFirstItem(menu: HTMLElement | undefined): void {
  menu?.querySelector<HTMLElement>(ITEMS)?.focus();
}

export function onMenuKeydown(
  e: KeyboardEvent,
  menu: HTMLElement | undefined,
  close: (refocus: boolean) => void,
): void {
  const items = [...(menu?.querySelectorAll<HTMLElement>(ITEMS) ?? [])];
  const i = items.indexOf(document.activeElement as HTMLElement);
  if (e.key === 'Tab') return close(false);
  if (e.key === 'Escape') close(true);
  else if (e.key === 'ArrowDown') items[(i + 1) % items.length]?.focus();
  else if (e.key === 'ArrowUp') items[(i - 1 + items.length) % items.length]?.focus();
  else if (e.key === 'Home') items[0]?.focus();
  else if (e.key === 'End') items.at(-1)?.focus();
  else return;
  e.preventDefault();
}
