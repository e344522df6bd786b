import type { Pool } from '@pool/core';
import { Dispatcher, errors, type Client } from 'undici';
import { normalizeOrigin, type Http2Node } from './options.js';
import { CallbackRequest } from './callback-request.js';
import { ControllerRequest } from './controller-request.js';
import { foreignOriginError } from './origins.js';
import { newAcquireTicket, type AcquireTicket, type Http2RequestRouting, type RequestOwner } from './pooled-request.js';

const MAX_SPARE_TICKETS = 1_024;

const normalizedOrigins = new WeakMap<Http2Node, string>();

/**
 * The pool seen as an undici `Dispatcher`: `fetch(url, { dispatcher })`, `undici.request(url,
 * { dispatcher })`, `dispatcher.request/stream/pipeline` all run through pooled sessions.
 * `close()` drains the pool, `destroy()` closes it.
 */
export class Http2PoolDispatcher extends Dispatcher implements RequestOwner {
  readonly pool: Pool<Client, Http2Node>;
  readonly retryOnSessionLoss: boolean;
  /** Requests for origins no node serves go to a node the balancer picks instead of failing. */
  readonly anyOrigin: boolean;
  readonly #spareTickets: AcquireTicket[] = [];

  constructor(pool: Pool<Client, Http2Node>, options: { retryOnSessionLoss: boolean; anyOrigin?: boolean }) {
    super();
    this.pool = pool;
    this.retryOnSessionLoss = options.retryOnSessionLoss;
    this.anyOrigin = options.anyOrigin ?? false;
  }

  override dispatch(options: Dispatcher.DispatchOptions & Http2RequestRouting, handler: Dispatcher.DispatchHandler): boolean {
    if (handler === null || typeof handler !== 'object') throw new errors.InvalidArgumentError('handler must be an object');
    // Speak the caller's handler API (undici's own request/stream/pipeline/fetch use the callback
    // one), so events pass through without conversion.
    const request = typeof handler.onRequestStart === 'function'
      ? new ControllerRequest(this, options, handler)
      : new CallbackRequest(this, options, handler);
    try {
      request.start();
    } catch (error) {
      // A handler that throws from onConnect/onRequestStart: the error is the caller's, as with
      // undici, and the request's hold on the process must not outlive it.
      request.abandon();
      throw error;
    }
    // The pool queues; callers never need to wait for a 'drain' event.
    return true;
  }

  takeAcquireTicket(): AcquireTicket {
    return this.#spareTickets.pop() ?? newAcquireTicket();
  }

  recycleAcquireTicket(ticket: AcquireTicket): void {
    if (this.#spareTickets.length < MAX_SPARE_TICKETS) this.#spareTickets.push(ticket);
  }

  nodeAvoiding(lost: readonly string[]): string | undefined {
    const { nodes } = this.pool.stats();
    const candidates = this.pool.nodes.filter((node) => !lost.includes(node.id) && nodes[node.id]?.circuit === 'closed');
    return candidates[Math.floor(Math.random() * candidates.length)]?.id;
  }

  nodeForOrigin(origin: string | URL | undefined): string | undefined {
    if (origin === undefined) return undefined;
    let wanted: string;
    try {
      wanted = typeof origin === 'string' ? normalizeOrigin(origin) : origin.origin;
    } catch {
      return undefined;
    }
    for (const node of this.pool.nodes) {
      let known = normalizedOrigins.get(node);
      if (known === undefined) {
        known = normalizeOrigin(node.origin);
        normalizedOrigins.set(node, known);
      }
      if (known === wanted) return node.id;
    }
    return undefined;
  }

  refusedOrigin(origin: string | URL): Error {
    return foreignOriginError(origin, this.pool.nodes);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const drained = this.pool.drain();
    if (callback === undefined) return drained;
    drained.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(errorOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const done = typeof errorOrCallback === 'function' ? errorOrCallback : callback;
    const closed = this.pool.close();
    if (done === undefined) return closed;
    closed.then(done, done);
  }
}
