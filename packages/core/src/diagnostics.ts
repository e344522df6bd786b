import { channel, tracingChannel } from 'node:diagnostics_channel';
import type { DestroyReason } from './events.js';
import type { PoolError } from './errors.js';

// node:diagnostics_channel, the way undici, mysql2 and fastify expose instrumentation. The
// channels are global by name: any copy of @pool/core in the process publishes on the same ones.
// Every publisher checks `hasSubscribers` first, so with nobody subscribed an operation costs one
// property read and allocates nothing.

/** Context of a `@pool/core:acquire` trace; at asyncEnd `result` is the lease, or `error` the PoolError. */
export interface AcquireChannelContext {
  /** The pool's name (`PoolOptions.name`). */
  pool: string;
  /** The node id, when the call named one. */
  node?: string;
  partition?: string;
  /** The acquire's priority: its own, else its partition's, else 0. */
  priority: number;
  /** Set at asyncEnd when a lease was granted: `result.node.id` tells where it went. */
  result?: unknown;
  /** Set at error and asyncEnd when the acquire failed. */
  error?: PoolError;
}

/** Context of a `@pool/core:create` trace: one attempt of `factory.create`, bounded by createTimeoutMs. */
export interface CreateChannelContext {
  pool: string;
  /** The node id. */
  node: string;
  /** Set at asyncEnd: the connection the factory made. */
  result?: unknown;
  /** Set at error and asyncEnd when the attempt failed or timed out. */
  error?: unknown;
}

/** Message of `@pool/core:release`: a lease ended (released or destroyed). */
export interface ReleaseChannelMessage {
  pool: string;
  node: string;
  /** How long the lease was held, ms. */
  heldMs: number;
  partition?: string;
}

/** Message of `@pool/core:destroy`: a connection's destroy settled. */
export interface DestroyChannelMessage {
  pool: string;
  node: string;
  /** As the `destroy` event's. */
  reason: DestroyReason;
}

/** The names, for subscribers: `tracingChannel(CHANNELS.acquire)`, `subscribe(CHANNELS.release, fn)`. */
export const CHANNELS = Object.freeze({
  acquire: '@pool/core:acquire',
  create: '@pool/core:create',
  release: '@pool/core:release',
  destroy: '@pool/core:destroy',
} as const);

export const acquireChannel = tracingChannel<unknown, AcquireChannelContext>(CHANNELS.acquire);
export const createChannel = tracingChannel<unknown, CreateChannelContext>(CHANNELS.create);
export const releaseChannel = channel(CHANNELS.release);
export const destroyChannel = channel(CHANNELS.destroy);

/**
 * A lease granted synchronously (tryAcquire) as one complete acquire trace: start, end, then
 * asyncStart and asyncEnd with the lease as `result`, the shape tracePromise gives an acquire.
 */
export function publishImmediateAcquire(context: AcquireChannelContext, lease: unknown): void {
  const { start, end, asyncStart, asyncEnd } = acquireChannel;
  start.publish(context);
  context.result = lease;
  end.publish(context);
  asyncStart.publish(context);
  asyncEnd.publish(context);
}
