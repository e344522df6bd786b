/** Why a connection was destroyed. */
export type DestroyReason =
  | 'idle'
  | 'lifetime'
  | 'maxUses'
  | 'invalid'
  | 'broken'
  | 'drain'
  | 'node-removed';

/** Payloads of the pool's events, by event name. */
export interface PoolEvents {
  create: { node: string; durationMs: number };
  destroy: { node: string; reason: DestroyReason; error?: unknown };
  acquire: { node: string; waitMs: number; partition?: string };
  release: { node: string; heldMs: number; partition?: string };
  timeout: { waitedMs: number; node?: string; partition?: string };
  abort: { waitedMs: number; reason: unknown };
  leak: { node: string; heldMs: number; stack: string };
  createError: { node: string; error: unknown; attempt: number };
  circuitOpen: { node: string; failures: number };
  circuitClose: { node: string };
  nodeAdded: { node: string };
  nodeRemoved: { node: string };
  /** A node's adaptive concurrency limit moved (adaptiveLimit on). */
  limitChange: { node: string; limit: number; previous: number };
  error: { error: unknown; during: string; node?: string };
}

export type PoolEventName = keyof PoolEvents;
export type PoolListener<E extends PoolEventName> = (event: PoolEvents[E]) => void;

type Listeners = { [E in PoolEventName]?: PoolListener<E>[] };

/**
 * A small typed emitter. Listener arrays are copy-on-write so emit can iterate without a copy,
 * and a listener that throws is reported on 'error' instead of breaking the pool.
 */
export class PoolEmitter {
  private listeners: Listeners = {};

  on<E extends PoolEventName>(event: E, listener: PoolListener<E>): this {
    const current = (this.listeners[event] ?? []) as PoolListener<E>[];
    (this.listeners as Record<string, unknown>)[event] = [...current, listener];
    this.refreshFlags();
    return this;
  }

  once<E extends PoolEventName>(event: E, listener: PoolListener<E>): this {
    const wrapper: PoolListener<E> = (payload) => {
      this.off(event, wrapper);
      listener(payload);
    };
    return this.on(event, wrapper);
  }

  off<E extends PoolEventName>(event: E, listener: PoolListener<E>): this {
    const current = this.listeners[event] as PoolListener<E>[] | undefined;
    if (!current) return this;
    const next = current.filter((candidate) => candidate !== listener);
    (this.listeners as Record<string, unknown>)[event] = next.length > 0 ? next : undefined;
    this.refreshFlags();
    return this;
  }

  /** Cheap guard so hot paths build a payload only when someone listens. */
  hasListeners(event: PoolEventName): boolean {
    return this.listeners[event] !== undefined;
  }

  // Read on every acquire and release: plain fields, no keyed lookup.
  hasAcquireListeners = false;
  hasReleaseListeners = false;

  private refreshFlags(): void {
    this.hasAcquireListeners = this.listeners.acquire !== undefined;
    this.hasReleaseListeners = this.listeners.release !== undefined;
  }

  emit<E extends PoolEventName>(event: E, payload: PoolEvents[E]): void {
    const current = this.listeners[event] as PoolListener<E>[] | undefined;
    if (!current) return;
    for (const listener of current) {
      try {
        listener(payload);
      } catch (error) {
        if (event !== 'error') this.emit('error', { error, during: `${event} listener` });
      }
    }
  }
}
