/**
 * Runs the engine in an Electron utility process and hands each renderer a MessagePort to it, the
 * way VS Code connects windows to its pty host. Ports go parent → child only, so main creates the
 * channel, posts one end to the child and the other to the window.
 *
 * A child that exits without being asked to (a crash, an out-of-memory kill) is replaced at once and
 * the window gets a port with reason 'crash'; the page keeps its editor text and says so. A child that
 * keeps dying is left dead after a few tries rather than spinning.
 */
import { MessageChannelMain, utilityProcess, type MessagePortMain, type UtilityProcess } from 'electron';
import type { EnginePortReason } from './bridge-api.ts';

/** Restarts allowed inside `CRASH_WINDOW_MS` before we stop trying. */
const MAX_CRASHES = 3;
const CRASH_WINDOW_MS = 10_000;

export type PortSink = (port: MessagePortMain, reason: EnginePortReason) => void;

export class EngineHost {
  private child: UtilityProcess | null = null;
  private crashes: number[] = [];
  private disposed = false;

  constructor(
    private readonly entry: string,
    private readonly sink: PortSink,
    private readonly log: (msg: string) => void = (m) => console.error(m),
  ) {}

  /** Start a fresh engine (killing the current one if any) and hand the window its port. */
  restart(reason: EnginePortReason): void {
    this.kill();
    this.spawn(reason);
  }

  dispose(): void {
    this.disposed = true;
    this.kill();
  }

  private kill(): void {
    const old = this.child;
    this.child = null;
    // Detach first: this exit was asked for and must not count as a crash.
    old?.removeAllListeners('exit');
    old?.kill();
  }

  private spawn(reason: EnginePortReason): void {
    if (this.disposed) return;
    const child = utilityProcess.fork(this.entry, [], { serviceName: 'IOMMU Lab engine', stdio: 'inherit' });
    this.child = child;
    const { port1, port2 } = new MessageChannelMain();
    child.postMessage({ type: 'engine-port' }, [port1]);
    this.sink(port2, reason);
    child.once('exit', (code) => {
      if (this.child !== child) return;
      this.child = null;
      this.log(`engine process exited unexpectedly (code ${code})`);
      const now = Date.now();
      this.crashes = this.crashes.filter((t) => now - t < CRASH_WINDOW_MS);
      this.crashes.push(now);
      if (this.crashes.length > MAX_CRASHES) {
        this.log(
          `engine crashed ${this.crashes.length} times in ${CRASH_WINDOW_MS / 1000} s; not restarting`,
        );
        return;
      }
      this.spawn('crash');
    });
  }
}
