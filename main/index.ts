/**
 * Electron main: the app:// scheme, the window, the menu and the engine utility process. It owns no
 * lab state; the page talks to the engine over the MessagePort main hands it.
 */
import { app, BrowserWindow, ipcMain, Menu, nativeTheme, session } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_SCHEME, handleAppScheme, registerAppScheme } from './app-scheme.ts';
import { sessionPathFromArgv } from './argv.ts';
import { IPC, type MenuCommand, type ThemeSource } from './bridge-api.ts';
import { PAGE_CSP } from './csp.ts';
import { EngineHost } from './engine-host.ts';
import { buildMenu } from './menu.ts';
import { SessionController } from './session-main.ts';
import { createLabWindow } from './window.ts';

// Built layout (electron.vite.config.ts): out/main/{index,engine-host}.js, out/preload/index.cjs, out/renderer/.
const here = path.dirname(fileURLToPath(import.meta.url));
const paths = {
  engine: path.join(here, 'engine-host.js'),
  preload: path.join(here, '../preload/index.cjs'),
  renderer: path.join(here, '../renderer'),
};

// Tests run the app against their own data folder (recent files, autosave), never the user's.
if (process.env.IOMMU_LAB_USER_DATA) app.setPath('userData', path.resolve(process.env.IOMMU_LAB_USER_DATA));

registerAppScheme();
app.enableSandbox();

// A second launch (e.g. opening a .iommulab file) focuses the running window instead.
if (!app.requestSingleInstanceLock()) app.exit(0);

let win: BrowserWindow | null = null;
let engine: EngineHost | null = null;
const sessions = new SessionController(() => installMenu());

// A session file given on the command line (or by the OS on Linux/Windows), or by macOS's Finder.
const argvFile = sessionPathFromArgv(process.argv, process.cwd());
if (argvFile) sessions.requestOpen(argvFile);
app.on('open-file', (event, file) => {
  event.preventDefault();
  sessions.requestOpen(file);
});

function send(cmd: MenuCommand): void {
  win?.webContents.send(IPC.menu, cmd);
}

function installMenu(): void {
  Menu.setApplicationMenu(
    buildMenu({
      window: () => win,
      send,
      recentFiles: () => sessions.recentFiles(),
      clearRecent: () => sessions.clearRecent(),
    }),
  );
}

function openWindow(): void {
  const w = createLabWindow(paths.preload);
  win = w;
  sessions.attachWindow(w);
  engine = new EngineHost(paths.engine, (port, reason) => {
    if (w.isDestroyed()) port.close();
    else w.webContents.postMessage(IPC.enginePort, reason, [port]);
  });
  // Every (re)load of the page gets a fresh engine: the previous page's port died with it.
  w.webContents.on('did-finish-load', () => engine?.restart('start'));
  w.on('closed', () => {
    engine?.dispose();
    engine = null;
    win = null;
  });
}

app.on('second-instance', (_event, argv, workingDirectory) => {
  const file = sessionPathFromArgv(argv, workingDirectory);
  if (file) sessions.requestOpen(file);
  if (win?.isMinimized()) win.restore();
  win?.focus();
});

app.on('window-all-closed', () => {
  app.quit();
});

void app.whenReady().then(async () => {
  handleAppScheme(paths.renderer);
  // The app:// handler sets the policy on each response; this hook covers anything else the
  // session loads from our scheme (and keeps a stricter default if the handler ever forgets).
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    if (!details.url.startsWith(`${APP_SCHEME}:`)) return callback({});
    const headers = { ...details.responseHeaders };
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-security-policy')) {
      headers['Content-Security-Policy'] = [PAGE_CSP];
    }
    callback({ responseHeaders: headers });
  });
  // The lab never asks for the camera, notifications or the like.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  ipcMain.on(IPC.restartEngine, (event) => {
    if (win && event.sender === win.webContents) engine?.restart('stop');
  });
  ipcMain.on(IPC.themeSource, (_event, source: ThemeSource) => {
    if (source === 'system' || source === 'light' || source === 'dark') nativeTheme.themeSource = source;
    else console.warn(`[ipc] refused ${IPC.themeSource}: not a theme`);
  });

  await sessions.start();
  installMenu();
  openWindow();

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) openWindow();
  });
});
