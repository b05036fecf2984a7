/**
 * Where the engine lives. In the browser it is a module Web Worker we start ourselves; in Electron it
 * is a utility process that main starts, and we get a MessagePort to it from the preload. Both give the
 * client the same thing: an endpoint that carries protocol messages, and a fresh one after a restart.
 */
import type { EnginePortMessage, EnginePortReason, LabBridge } from '../../main/bridge-api.ts';
import { labBridge } from './shell.ts';

export type ConnectReason = EnginePortReason;

export interface Endpoint {
  post(msg: unknown): void;
  onMessage(listener: (data: unknown) => void): void;
  close(): void;
}

export interface EngineConnector {
  readonly kind: 'worker' | 'electron';
  /** Start delivering endpoints: the first now (or when main sends it), then one per restart. */
  start(onEndpoint: (ep: Endpoint, reason: ConnectReason) => void): void;
  /** Kill the engine and connect to a new one (Stop). */
  restart(): void;
  dispose(): void;
}

class WorkerConnector implements EngineConnector {
  readonly kind = 'worker' as const;
  private worker: Worker | null = null;
  private sink: ((ep: Endpoint, reason: ConnectReason) => void) | null = null;

  start(onEndpoint: (ep: Endpoint, reason: ConnectReason) => void): void {
    this.sink = onEndpoint;
    this.spawn('start');
  }

  restart(): void {
    this.spawn('stop');
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
    this.sink = null;
  }

  private spawn(reason: ConnectReason): void {
    this.worker?.terminate();
    const worker = new Worker(new URL('../../engine/host/web/worker.ts', import.meta.url), {
      type: 'module',
      name: 'iommu-lab-engine',
    });
    this.worker = worker;
    const ep: Endpoint = {
      post: (msg) => worker.postMessage(msg),
      onMessage: (listener) => {
        worker.onmessage = (e: MessageEvent) => listener(e.data);
        // A worker whose module fails to load only says so through 'error'; surface it as a message.
        worker.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          listener({
            type: 'event',
            event: 'engine-error',
            message: e.message || 'the engine worker failed to start',
          });
        };
      },
      close: () => worker.terminate(),
    };
    this.sink?.(ep, reason);
  }
}

class ElectronConnector implements EngineConnector {
  readonly kind = 'electron' as const;
  private port: MessagePort | null = null;
  private onWindowMessage: ((e: MessageEvent) => void) | null = null;

  constructor(private readonly bridge: LabBridge) {}

  start(onEndpoint: (ep: Endpoint, reason: ConnectReason) => void): void {
    this.onWindowMessage = (e: MessageEvent) => {
      const data = e.data as Partial<EnginePortMessage> | null;
      if (e.source !== window || data?.source !== 'iommu-lab' || data.type !== 'engine-port') return;
      const port = e.ports[0];
      if (!port) return;
      this.port?.close();
      this.port = port;
      const ep: Endpoint = {
        post: (msg) => port.postMessage(msg),
        onMessage: (listener) => {
          port.onmessage = (ev: MessageEvent) => listener(ev.data);
        },
        close: () => port.close(),
      };
      onEndpoint(ep, data.reason ?? 'start');
    };
    window.addEventListener('message', this.onWindowMessage);
    this.bridge.connectEngine();
  }

  restart(): void {
    this.bridge.restartEngine();
  }

  dispose(): void {
    if (this.onWindowMessage) window.removeEventListener('message', this.onWindowMessage);
    this.onWindowMessage = null;
    this.port?.close();
    this.port = null;
  }
}

export function createConnector(): EngineConnector {
  const bridge = labBridge();
  return bridge ? new ElectronConnector(bridge) : new WorkerConnector();
}
