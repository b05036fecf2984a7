/**
 * The application menu. Items that belong to the page (run, tabs, session files, panels) only send a
 * `MenuCommand` to the renderer, which owns that state; the menu never keeps any itself.
 */
import { app, dialog, Menu, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import type { MenuAction, MenuCommand } from './bridge-api.ts';

export interface MenuContext {
  window: () => BrowserWindow | null;
  send: (cmd: MenuCommand) => void;
  recentFiles: () => string[];
  clearRecent: () => void;
}

const isMac = process.platform === 'darwin';

/** The panels of renderer/components/panels/registry.ts, by id, in its order. */
const PANEL_ITEMS: [string, string][] = [
  ['domains', 'Domains'],
  ['resv', 'Reserved Regions'],
  ['iotlb', 'IOTLB'],
  ['console', 'Console'],
  ['trace', 'Trace'],
  ['checks', 'Checks'],
  ['matrix', 'Matrix'],
  ['help', 'Help'],
];

export function buildMenu(ctx: MenuContext): Menu {
  const cmd = (action: MenuAction, arg?: string) => (): void =>
    ctx.send(arg === undefined ? { action } : { action, arg });

  const recent = ctx.recentFiles();
  const recentItems: MenuItemConstructorOptions[] = recent.length
    ? recent.map((file) => ({ label: file, click: cmd('open-recent', file) }))
    : [{ label: 'No recent sessions', enabled: false }];

  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        { label: 'New Session', accelerator: 'CmdOrCtrl+N', click: cmd('new') },
        { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: cmd('open') },
        {
          label: 'Open Recent',
          submenu: [
            ...recentItems,
            { type: 'separator' },
            { label: 'Clear Recent', enabled: recent.length > 0, click: ctx.clearRecent },
          ],
        },
        { type: 'separator' },
        { label: 'Save', accelerator: 'CmdOrCtrl+S', click: cmd('save') },
        { label: 'Save As…', accelerator: 'CmdOrCtrl+Shift+S', click: cmd('save-as') },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit', accelerator: 'CmdOrCtrl+Q' },
      ],
    },
    {
      label: '&Edit',
      submenu: [
        { role: 'undo' },
        { role: 'redo' },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    {
      label: '&View',
      submenu: [
        // Each opens the panel when closed and closes it when open (the page owns the layout).
        ...PANEL_ITEMS.map(([id, label]) => ({ label, click: cmd('toggle-panel', id) })),
        { type: 'separator' },
        { label: 'Side Panels', accelerator: 'CmdOrCtrl+B', click: cmd('toggle-panel', 'side') },
        { label: 'Bottom Panels', accelerator: 'CmdOrCtrl+J', click: cmd('toggle-panel', 'bottom') },
        { label: 'Reset Layout', click: cmd('toggle-panel', 'reset') },
        { type: 'separator' },
        {
          label: 'Theme',
          submenu: [
            { label: 'Follow System', type: 'radio', checked: true, click: cmd('theme', 'system') },
            { label: 'Light', type: 'radio', click: cmd('theme', 'light') },
            { label: 'Dark', type: 'radio', click: cmd('theme', 'dark') },
          ],
        },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { role: 'togglefullscreen' },
        { type: 'separator' },
        { role: 'toggleDevTools' },
      ],
    },
    {
      label: '&Run',
      submenu: [
        // Ctrl+Enter and F5 both run; the menu shows one, the page handles both.
        { label: 'Run', accelerator: 'CmdOrCtrl+Enter', click: cmd('run') },
        { label: 'Run (F5)', accelerator: 'F5', click: cmd('run'), visible: false },
        { label: 'Stop', accelerator: 'Shift+F5', click: cmd('stop') },
        { type: 'separator' },
        { label: 'Step', accelerator: 'F10', click: cmd('step') },
        { label: 'Step Back', accelerator: 'Shift+F10', click: cmd('step-back') },
      ],
    },
    {
      label: '&Help',
      submenu: [
        { label: 'API Reference', click: cmd('api-reference') },
        { label: 'Scenario Gallery', click: cmd('gallery') },
        { label: 'Keyboard Shortcuts', click: cmd('keys') },
        { type: 'separator' },
        {
          label: 'About IOMMU Lab',
          click: () => {
            const win = ctx.window();
            const detail = [
              `Version ${app.getVersion()}`,
              `Electron ${process.versions.electron}`,
              `Chromium ${process.versions.chrome}`,
              `Node ${process.versions.node}`,
            ].join('\n');
            const opts = { type: 'info' as const, title: 'About IOMMU Lab', message: 'IOMMU Lab', detail };
            void (win ? dialog.showMessageBox(win, opts) : dialog.showMessageBox(opts));
          },
        },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
