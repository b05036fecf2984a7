/**
 * The panels the docks can show. A new panel is one component in this folder plus one line here; it
 * reads what it draws from the engine through the engine client, never from engine internals. Where
 * a panel starts is in lib/layout-model.ts (PLACEMENT); one it does not list starts in the bottom dock.
 * The order here is the order of the View menu and of tabs that share a group.
 */
import type { Component } from 'svelte';
import ConsolePanel from './ConsolePanel.svelte';
import DomainsPanel from './DomainsPanel.svelte';
import ResvPanel from './ResvPanel.svelte';
import IotlbPanel from './IotlbPanel.svelte';
import TracePanel from './TracePanel.svelte';
import ChecksPanel from './ChecksPanel.svelte';
import MatrixPanel from './MatrixPanel.svelte';
import HelpPanel from './HelpPanel.svelte';

export interface PanelDef {
  id: string;
  title: string;
  component: Component;
}

export const PANELS: PanelDef[] = [
  { id: 'domains', title: 'Domains', component: DomainsPanel },
  { id: 'resv', title: 'Reserved regions', component: ResvPanel },
  { id: 'iotlb', title: 'IOTLB', component: IotlbPanel },
  { id: 'console', title: 'Console', component: ConsolePanel },
  { id: 'trace', title: 'Trace', component: TracePanel },
  { id: 'checks', title: 'Checks', component: ChecksPanel },
  { id: 'matrix', title: 'Matrix', component: MatrixPanel },
  { id: 'help', title: 'Help', component: HelpPanel },
];

export function panelById(id: string): PanelDef | undefined {
  return PANELS.find((p) => p.id === id);
}
