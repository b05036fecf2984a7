/**
 * The contract between the preload (main/preload.ts) and the page. Types and channel names only, no
 * imports but the session part's types (session-api.ts, likewise import-free), so both the Node-side
 * build and the renderer can include it.
 */
import type { SessionBridge } from './session-api.ts';

/** IPC channels between main and the preload. */
export const IPC = {
  /** main → preload: a MessagePort to the engine (with `EnginePortReason` as the payload). */
  enginePort: 'engine-port',
  /** preload → main: kill the engine and start a fresh one (Stop). */
  restartEngine: 'engine:restart',
  /** main → preload: a menu item was chosen. */
  menu: 'menu',
  /** preload → main: the theme the user picked, so native frames and dialogs follow. */
  themeSource: 'theme:source',
} as const;

/** Why a new engine port arrives: first start (or page reload), a requested stop, or a crash. */
export type EnginePortReason = 'start' | 'stop' | 'crash';

/** The message the preload posts to the page, with the port as its one transfer. */
export interface EnginePortMessage {
  source: 'iommu-lab';
  type: 'engine-port';
  reason: EnginePortReason;
}

export type ThemeSource = 'system' | 'light' | 'dark';

export type MenuAction =
  | 'new'
  | 'open'
  | 'save'
  | 'save-as'
  | 'open-recent'
  | 'run'
  | 'stop'
  | 'step'
  | 'step-back'
  | 'toggle-panel'
  | 'theme'
  | 'api-reference'
  | 'gallery'
  | 'keys';

export interface MenuCommand {
  action: MenuAction;
  /** The panel id, theme name or recent file path the action is about. */
  arg?: string;
}

/** What the preload exposes as `window.iommuLab`. */
export interface LabBridge {
  readonly platform: string;
  readonly versions: { app: string; electron: string; chrome: string; node: string };
  /** How the preload itself runs (the end-to-end test checks the window's hardening with it). */
  readonly runtime: { sandboxed: boolean; contextIsolated: boolean };
  /** The page is listening: post the pending engine port now and every later one at once. */
  connectEngine(): void;
  /** Kill the engine and start a fresh one; the new port arrives with reason 'stop'. */
  restartEngine(): void;
  /** Subscribe to menu commands; returns the unsubscribe function. */
  onMenu(listener: (cmd: MenuCommand) => void): () => void;
  setThemeSource(source: ThemeSource): void;
  /** Session files: open, save, autosave and recovery (main owns the disk). */
  readonly session: SessionBridge;
}
