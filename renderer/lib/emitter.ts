/** A private emitter with a public subscribe that returns its own disposer (VS Code's Event pattern). */
export type Listener<T> = (value: T) => void;
export type Disposer = () => void;

export class Emitter<T> {
  private listeners = new Set<Listener<T>>();

  readonly on = (listener: Listener<T>): Disposer => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }

  get size(): number {
    return this.listeners.size;
  }

  clear(): void {
    this.listeners.clear();
  }
}
