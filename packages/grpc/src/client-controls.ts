import * as grpc from '@grpc/grpc-js';
import { CallLease } from './call-lease.js';
import type { CallContext } from './call-lease.js';

/**
 * What a pooled client has of `grpc.Client`'s own methods, with their pooled meaning: the handle
 * is one view on the pool, not a channel of its own.
 */
export interface PooledClientControls {
  /**
   * Calls `callback()` once the pool can hand this client's calls a READY channel (a lease is
   * taken with the client's acquire options, then given back at once), or `callback(error)` when
   * `deadline` passes first. Nodes that cannot serve yet (connects failing, circuits open) are
   * waited out, as grpc-js waits through TRANSIENT_FAILURE. A deadline of `Infinity` waits up to
   * the acquire timeout (the client's `acquire.timeoutMs`, else the pool's `acquireTimeoutMs`).
   */
  waitForReady(deadline: grpc.Deadline, callback: (error?: Error) => void): void;
  /**
   * Always throws: a pooled client has no single channel, its calls are spread over the pool's.
   * Lease one (`pool.use`, `pool.acquire`: `lease.connection` is the `grpc.Channel`) and use
   * `pool.clientFor(lease, Ctor)`, whose `getChannel()` is that lease's channel.
   */
  getChannel(): never;
  /**
   * Closes this handle, not the pool: later calls through it throw (as grpc-js's do on a closed
   * client); calls already made, running or waiting for a channel, finish as usual. A cached
   * handle (`pool.client(Ctor)` without options) is dropped from the cache, so the next
   * `pool.client(Ctor)` returns a new one. Idempotent.
   */
  close(): void;
}

/** Names a service method may not take from the controls: grpc-js clients give them to the service too. */
export const CONTROL_NAMES = ['waitForReady', 'getChannel', 'close'] as const;

/** Whether this handle was closed: read by each of its methods. */
export interface HandleState {
  isClosed: boolean;
}

export function closedClientError(): Error {
  return new Error('This pooled gRPC client was closed: calls through it are refused (the pool stays open; get a new client with pool.client(Ctor))');
}

export function clientControls(context: CallContext, state: HandleState, onClose: (() => void) | undefined): PooledClientControls {
  return {
    waitForReady(deadline: grpc.Deadline, callback: (error?: Error) => void): void {
      if (state.isClosed) {
        process.nextTick(callback, closedClientError());
        return;
      }
      const lease = new CallLease(
        context,
        () => {
          lease.release();
          // Outside CallLease's guard: a throwing callback must not be called a second time with an error.
          process.nextTick(callback);
        },
        (status, cause) => callback(new Error(`Failed to get a ready pooled channel before the deadline: ${status.details}`, { cause })),
      );
      lease.start(deadline, true);
    },
    getChannel(): never {
      throw new Error('A pooled gRPC client has no single channel: its calls are spread over the pool\'s channels. '
        + 'Lease one with pool.use(fn) or pool.acquire() (lease.connection is the grpc.Channel); '
        + 'pool.clientFor(lease, Ctor).getChannel() is that channel');
    },
    close(): void {
      if (state.isClosed) return;
      state.isClosed = true;
      onClose?.();
    },
  };
}
