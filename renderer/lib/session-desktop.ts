/** Session files in the desktop app: everything goes to main through the preload's bridge (main/session-api.ts). */
import type { SessionBridge } from '../../main/session-api.ts';
import type { OpenResult, OpenSource, SaveResult, SessionBackend, StartupResult } from './session-backend.ts';
import { readSessionFile } from './session-browser.ts';

export class DesktopSessionBackend implements SessionBackend {
  readonly kind = 'desktop' as const;

  constructor(private readonly bridge: SessionBridge) {}

  async startup(): Promise<StartupResult> {
    const info = await this.bridge.startup();
    const out: StartupResult = {};
    if (info.open) out.open = info.open;
    if (info.openReason) out.openReason = info.openReason;
    if (info.recovery) out.recovery = info.recovery;
    return out;
  }

  async open(source: OpenSource): Promise<OpenResult> {
    if (source.kind === 'file') {
      // A dropped file: main opens it by its path, so Save writes back to it. A file without a
      // path (dragged from another app) is read here and becomes an untitled session.
      const path = this.bridge.pathForFile(source.file);
      if (!path) return readSessionFile(source.file);
      return this.bridge.open({ kind: 'dropped', path });
    }
    // File handles are the browser's; the desktop's recent files are paths main keeps.
    if (source.kind === 'handle')
      return { status: 'error', message: 'a browser file handle cannot be opened here' };
    return this.bridge.open(source);
  }

  save(content: string, opts: { saveAs: boolean; name: string }): Promise<SaveResult> {
    return this.bridge.save({ content, saveAs: opts.saveAs, suggestedName: opts.name });
  }

  async recovery(id: string, action: 'restore' | 'discard') {
    const r = await this.bridge.recovery({ id, action });
    return r.status === 'ok'
      ? { ok: true as const, path: r.path }
      : { ok: false as const, message: r.message };
  }

  newSession(): void {
    this.bridge.newSession();
  }

  setState(dirty: boolean, name: string): void {
    this.bridge.setState({ dirty, name });
  }

  autosave(content: string | null): void {
    this.bridge.autosave({ content });
  }

  remember(): void {
    // Main keeps the last session (its recent files).
  }

  onEvent(listener: Parameters<SessionBackend['onEvent']>[0]): () => void {
    return this.bridge.onEvent(listener);
  }

  closeReady(): void {
    this.bridge.closeReady();
  }
}
