/**
 * A small typed event emitter for the SFU object tree (STYLE §10): listeners are typed per
 * event, and one that throws is reported to `onListenerError` instead of breaking the emitter
 * or the packet path that emitted.
 */
export type EventMap = Record<string, unknown[]>;
type Listener<A extends unknown[]> = (...args: A) => void;

export class Emitter<E extends EventMap> {
  private readonly listeners: { [K in keyof E]?: Listener<E[K]>[] } = {};
  /** Called with a listener's exception; defaults to ignoring it. */
  onListenerError: (err: unknown, event: string) => void = () => {};

  on<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const list = this.listeners[event] ?? [];
    list.push(fn);
    this.listeners[event] = list;
    return this;
  }

  once<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const wrapper = (...args: E[K]): void => {
      this.off(event, wrapper);
      fn(...args);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const list = this.listeners[event];
    if (!list) return this;
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners[event]?.length ?? 0;
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const list = this.listeners[event];
    if (!list || list.length === 0) return;
    for (const fn of [...list]) {
      try {
        fn(...args);
      } catch (err) {
        this.onListenerError(err, String(event));
      }
    }
  }

  protected removeAllListeners(): void {
    for (const k of Object.keys(this.listeners)) delete this.listeners[k as keyof E];
  }
}
