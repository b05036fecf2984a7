/**
 * A button's drop-down menu (View, recent sessions): opening focuses its first item, closing gives
 * the focus back to the button, and a press anywhere outside both closes it.
 */
import { tick } from 'svelte';
import { focusFirstItem } from './menu-keys.ts';

export class PopupMenu {
  open = $state(false);
  menu: HTMLElement | undefined = $state();
  button: HTMLButtonElement | undefined = $state();

  /** `beforeShow`: what the menu needs fresh each time it opens (awaited before its items are focused). */
  constructor(private readonly beforeShow?: () => Promise<void>) {}

  show = async (): Promise<void> => {
    this.open = true;
    await this.beforeShow?.();
    await tick();
    focusFirstItem(this.menu);
  };

  hide = (refocus = true): void => {
    this.open = false;
    if (refocus) this.button?.focus();
  };

  toggle = (): void => (this.open ? this.hide() : void this.show());

  /** For `<svelte:window onpointerdown>`. */
  onWindowPointer = (e: PointerEvent): void => {
    const t = e.target as Node;
    if (this.open && !this.menu?.contains(t) && !this.button?.contains(t)) this.hide(false);
  };
}
