/**
 * What the state panels (Domains, Reserved regions, IOTLB) draw: the engine's answers for the step
 * the run is shown at. Fetched once per change — after a run, after every seek — and shared by the
 * panels, so moving a panel or switching tabs costs no request. Answers for a step the user already
 * left are dropped.
 */
import { tick } from 'svelte';
import type { DomainCard, IotlbView, ResvView, TlbPoint } from '../../engine/host/protocol.ts';
import { queryEngine } from './lab-controller.ts';
import { run } from './run.svelte.ts';

export interface StateSnapshot {
  /** The step these answers are for. */
  step: number;
  domains: DomainCard[];
  resv: ResvView;
  iotlb: IotlbView[];
  /** Per IOMMU instance: how its IOTLB answered, step by step up to `step`. */
  series: Record<string, TlbPoint[]>;
}

export function stateQuery<T>(panel: string, args?: Record<string, unknown>): Promise<T> {
  return queryEngine<'state', T>({ what: 'state', panel, ...(args ? { args } : {}) });
}

class PanelState {
  /** Null before a run, after an engine restart, and while the first answers are on their way. */
  current = $state.raw<StateSnapshot | null>(null);
  /** Changes with every new snapshot (panels that fetch more, like mapping windows, key on it). */
  version = $state(0);
  loading = $state(false);
  error = $state<string | null>(null);

  private generation = 0;
  private pending: Promise<void> = Promise.resolve();
  private key: { result: unknown; step: number | null } | null = null;

  /** Refetch whenever the shown run or step changes. Call from a component (it makes an effect). */
  follow(): () => void {
    return $effect.root(() => {
      $effect(() => {
        const result = run.result;
        const step = run.currentStep;
        const ready = run.engine === 'ready';
        // While a run is going the last state stays up (dimmed by the panels) instead of blinking out.
        if (run.running && ready) return;
        void this.refreshFor(ready && result ? { result, step } : null, step);
      });
    });
  }

  /**
   * Start asking for a run's final state before its result is on screen, so the engine answers while
   * the page draws the console. The refresh that follows for the same result and step reuses it.
   */
  prefetch(result: unknown, step: number): void {
    void this.refreshFor({ result, step }, step);
  }

  /** Resolves once the answers for what the run shows now are drawn (the bench's panel update). */
  async settled(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.pending;
      await seen;
    } while (seen !== this.pending);
    await tick();
    await new Promise<void>((r) => requestAnimationFrame(() => r()));
  }

  private refreshFor(
    key: { result: unknown; step: number | null } | null,
    step: number | null,
  ): Promise<void> {
    const last = this.key;
    if (key && last && last.result === key.result && last.step === key.step) return this.pending;
    this.key = key;
    const gen = ++this.generation;
    if (!key || step === null) {
      this.current = null;
      this.loading = false;
      this.error = null;
      this.pending = Promise.resolve();
      return this.pending;
    }
    this.loading = true;
    this.pending = this.fetch(step).then(
      (snap) => {
        if (gen !== this.generation) return;
        this.current = snap;
        this.version++;
        this.error = null;
        this.loading = false;
      },
      (err: unknown) => {
        if (gen !== this.generation) return;
        this.error = err instanceof Error ? err.message : String(err);
        this.loading = false;
      },
    );
    return this.pending;
  }

  private async fetch(step: number): Promise<StateSnapshot> {
    // Sent together: the engine answers in order, all for the same step. The hit-rate series are
    // per IOMMU instance; the last snapshot's instances are asked for at once (a script run again
    // has the same ones), any others after the IOTLB answer names them.
    const series = (name: string) => stateQuery<TlbPoint[]>('tlb-series', { iommu: name, step });
    const guess = new Map((this.current?.iotlb ?? []).map((i) => [i.name, series(i.name)]));
    const [domains, resv, iotlb] = await Promise.all([
      stateQuery<DomainCard[]>('domains'),
      stateQuery<ResvView>('resv'),
      stateQuery<IotlbView[]>('iotlb'),
    ]);
    const points = await Promise.all(iotlb.map((i) => guess.get(i.name) ?? series(i.name)));
    // Answers for instances that are gone are dropped (and must not be left unhandled).
    for (const [name, p] of guess) if (!iotlb.some((i) => i.name === name)) p.catch(() => {});
    const byName: Record<string, TlbPoint[]> = {};
    iotlb.forEach((i, n) => (byName[i.name] = points[n]!));
    return { step, domains, resv, iotlb, series: byName };
  }
}

export const panelState = new PanelState();
