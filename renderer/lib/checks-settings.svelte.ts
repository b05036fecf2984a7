/**
 * Which named checks are turned off. The next run (and matrix) sends them as `disabledChecks`; the
 * session file saves them through `get()`/`set()`. The rules and their doc pages come from the
 * engine's registry (engine/checks/registry.ts), a pure data module.
 */
import { CHECK_DOCS, type CheckDoc } from '../../engine/checks/registry.ts';

export type { CheckDoc };

/** Every rule id the engine documents, in the registry's order. */
export const CHECK_RULES: readonly string[] = Object.keys(CHECK_DOCS);

export function checkDoc(id: string): CheckDoc | undefined {
  return (CHECK_DOCS as Record<string, CheckDoc>)[id];
}

class ChecksSettings {
  /** Ids turned off, sorted. */
  disabled = $state<string[]>([]);

  isOn(id: string): boolean {
    return !this.disabled.includes(id);
  }

  setOn(id: string, on: boolean): void {
    const rest = this.disabled.filter((d) => d !== id);
    this.disabled = on ? rest : [...rest, id].sort();
  }

  /** The ids turned off, for a run request or the session file. */
  get(): string[] {
    return [...this.disabled];
  }

  /** Replace the set (a loaded session). Unknown ids are kept: a newer engine may know them. */
  set(ids: readonly string[]): void {
    this.disabled = [...new Set(ids.filter((x) => typeof x === 'string'))].sort();
  }
}

export const checksSettings = new ChecksSettings();
