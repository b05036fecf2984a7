/**
 * The panels the side area can show. A new panel (Domains, Reserved regions, IOTLB, Trace, Checks,
 * Matrix) is one component in this folder plus one line here; it reads what it draws from the engine
 * through the engine client, never from engine internals.
 */
import type { Component } from 'svelte';
import ConsolePanel from './ConsolePanel.svelte';

export interface PanelDef {
  id: string;
  title: string;
  component: Component;
}

export const PANELS: PanelDef[] = [{ id: 'console', title: 'Console', component: ConsolePanel }];
