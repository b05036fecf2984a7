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
    // Sent together: the engine answers in order, all for the same step.
    const [domains, resv, iotlb] = await Promise.all([
      stateQuery<DomainCard[]>('domains'),
      stateQuery<ResvView>('resv'),
      stateQuery<IotlbView[]>('iotlb'),
    ]);
    const series: Record<string, TlbPoint[]> = {};
    const points = await Promise.all(
      iotlb.map((i) => stateQuery<TlbPoint[]>('tlb-series', { iommu: i.name, step })),
    );
    iotlb.forEach((i, n) => (series[i.name] = points[n]!));
    return { step, domains, resv, iotlb, series };
  }
}

export const panelState = new PanelState();
