/**
 * Sandboxed preload (built as CommonJS .cjs: a sandboxed preload cannot be an ES module). It exposes a
 * small bridge and forwards engine ports to the page: a MessagePort cannot cross contextBridge, so it
 * goes through window.postMessage with the port as a transfer.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import {
  IPC,
  type EnginePortMessage,
  type EnginePortReason,
  type LabBridge,
  type MenuCommand,
  type ThemeSource,
} from './bridge-api.ts';
import { SESSION_IPC, type SessionBridge, type SessionEvent } from './session-api.ts';

/** The DOM's MessagePort as Electron types it (this file is checked without the DOM lib). */
type PagePort = IpcRendererEvent['ports'][number];
/** The one DOM member used here: the page's window, to hand it the port. */
declare const window: { postMessage(message: unknown, targetOrigin: string, transfer: PagePort[]): void };

let pageListening = false;
let pending: { port: PagePort; reason: EnginePortReason } | null = null;

function postPort(port: PagePort, reason: EnginePortReason): void {
  const msg: EnginePortMessage = { source: 'iommu-lab', type: 'engine-port', reason };
  window.postMessage(msg, '*', [port]);
}

ipcRenderer.on(IPC.enginePort, (event: IpcRendererEvent, reason: EnginePortReason) => {
  const port = event.ports[0];
  if (!port) return;
  if (pageListening) postPort(port, reason);
  else {
    // An older port that the page never took is dead: its engine was replaced.
    pending?.port.close();
    pending = { port, reason };
  }
});

const appVersion = process.argv.find((a) => a.startsWith('--iommu-lab-version='))?.split('=')[1] ?? '';

/** Session files: each call is one IPC message, checked again in main (session-ipc.ts). */
const session: SessionBridge = {
  startup: () => ipcRenderer.invoke(SESSION_IPC.startup),
  open: (req) => ipcRenderer.invoke(SESSION_IPC.open, req),
  save: (req) => ipcRenderer.invoke(SESSION_IPC.save, req),
  recovery: (req) => ipcRenderer.invoke(SESSION_IPC.recovery, req),
  newSession: () => ipcRenderer.send(SESSION_IPC.new),
  setState: (state) => ipcRenderer.send(SESSION_IPC.state, state),
  autosave: (msg) => ipcRenderer.send(SESSION_IPC.autosave, msg),
  closeReady: () => ipcRenderer.send(SESSION_IPC.closeReady),
  pathForFile(file) {
    try {
      return webUtils.getPathForFile(file as Parameters<typeof webUtils.getPathForFile>[0]);
    } catch {
      return '';
    }
  },
  onEvent(listener) {
    const handler = (_e: IpcRendererEvent, ev: SessionEvent): void => listener(ev);
    ipcRenderer.on(SESSION_IPC.event, handler);
    return () => {
      ipcRenderer.removeListener(SESSION_IPC.event, handler);
    };
  },
};

const bridge: LabBridge = {
  platform: process.platform,
  versions: {
    app: appVersion,
    electron: process.versions.electron ?? '',
    chrome: process.versions.chrome ?? '',
    node: process.versions.node ?? '',
  },
  runtime: {
    sandboxed: (process as { sandboxed?: boolean }).sandboxed === true,
    contextIsolated: (process as { contextIsolated?: boolean }).contextIsolated === true,
  },
  connectEngine() {
    pageListening = true;
    if (pending) {
      postPort(pending.port, pending.reason);
      pending = null;
    }
  },
  restartEngine() {
    ipcRenderer.send(IPC.restartEngine);
  },
  onMenu(listener: (cmd: MenuCommand) => void) {
    const handler = (_e: IpcRendererEvent, cmd: MenuCommand): void => listener(cmd);
    ipcRenderer.on(IPC.menu, handler);
    return () => {
      ipcRenderer.removeListener(IPC.menu, handler);
    };
  },
  setThemeSource(source: ThemeSource) {
    ipcRenderer.send(IPC.themeSource, source);
  },
  session,
};

contextBridge.exposeInMainWorld('iommuLab', bridge);
