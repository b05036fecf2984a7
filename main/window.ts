/**
 * The one lab window: sandboxed, isolated, no Node in the page, and nowhere to go — navigation and
 * new windows are refused (links to the web open in the user's browser instead).
 */
import { app, BrowserWindow, nativeTheme, shell } from 'electron';
import { APP_ORIGIN } from './app-scheme.ts';

export function createLabWindow(preload: string): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 800,
    minHeight: 500,
    title: 'IOMMU Lab',
    show: false,
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#1b1d21' : '#f7f7f5',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      spellcheck: false,
      additionalArguments: [`--iommu-lab-version=${app.getVersion()}`],
    },
  });
  win.once('ready-to-show', () => win.show());

  const contents = win.webContents;
  contents.on('will-navigate', (event, url) => {
    event.preventDefault();
    openOutside(url);
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openOutside(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());

  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

/** Only web pages leave the app, and only to the system browser. */
function openOutside(url: string): void {
  if (/^https:\/\//.test(url)) void shell.openExternal(url);
}
