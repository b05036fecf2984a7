/**
 * Sandboxed preload (built as CommonJS .cjs: a sandboxed preload cannot be an ES module). It exposes a
 * small bridge and forwards engine ports to the page: a MessagePort cannot cross contextBridge, so it
 * goes through window.postMessage with the port as a transfer.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  IPC,
  type EnginePortMessage,
  type EnginePortReason,
  type LabBridge,
  type MenuCommand,
  type ThemeSource,
} from './bridge-api.ts';

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
};

contextBridge.exposeInMainWorld('iommuLab', bridge);
