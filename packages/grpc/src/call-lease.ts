import * as grpc from '@grpc/grpc-js';
import { holdProcess, isPoolError } from '@pool/core';
import type { AcquireOptions, Lease, Pool } from '@pool/core';
import type { ChannelClients } from './channel-clients.js';
import type { GrpcNode } from './options.js';
import { isNotReady, ReadyWait } from './ready-wait.js';

/** What every pooled call needs to get a channel. */
export interface CallContext<N extends GrpcNode = GrpcNode> {
  pool: Pool<grpc.Channel, N>;
  clients: ChannelClients;
  /** Acquire options of the pooled client (partition, priority, node, affinityKey, signal, timeoutMs). */
  acquireOptions: AcquireOptions | undefined;
  /** The wait the pool allows when the call has no deadline: acquireOptions.timeoutMs or the pool's acquireTimeoutMs. */
  acquireTimeoutMs: number;
}

const noop = () => {};

function deadlineMs(deadline: grpc.Deadline | undefined): number {
  if (deadline === undefined) return Infinity;
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/** A gRPC error (`ServiceError`) for a call that never reached a channel; `cause` is the pool's error. */
export function serviceError(status: grpc.StatusObject, cause?: unknown): grpc.ServiceError {
  const error = new Error(`${status.code} ${grpc.status[status.code]}: ${status.details}`, { cause });
  return Object.assign(error, status);
}

/** Maps why the acquire failed to the gRPC status the caller's code already handles. */
function statusForAcquireError(error: unknown, isDeadlineBound: boolean): grpc.StatusObject {
  const metadata = new grpc.Metadata();
  if (isPoolError(error, 'ACQUIRE_TIMEOUT') && isDeadlineBound) {
    return { code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded while waiting for a pooled channel', metadata };
  }
  if (isPoolError(error, 'QUEUE_FULL')) {
    return { code: grpc.status.RESOURCE_EXHAUSTED, details: `pool: ${error.message}`, metadata };
  }
  if (isPoolError(error, 'ABORTED')) {
    return { code: grpc.status.CANCELLED, details: 'Cancelled on client while waiting for a pooled channel', metadata };
  }
  const code = isPoolError(error) ? `${error.code}: ` : '';
  const message = error instanceof Error ? error.message : String(error);
  return { code: grpc.status.UNAVAILABLE, details: `pool: ${code}${message}`, metadata };
}

function notReadyByDeadline(error: unknown): grpc.StatusObject {
  const last = isPoolError(error) ? `${error.code}: ${error.message}` : String(error);
  return {
    code: grpc.status.DEADLINE_EXCEEDED,
    details: `Deadline exceeded while waiting for a ready pooled channel (wait_for_ready; last: pool: ${last})`,
    metadata: new grpc.Metadata(),
  };
}

/**
 * One call's hold on a pooled channel: acquires a lease bounded by the call's deadline, can be
 * cancelled while it waits (the acquire is aborted, so no lease leaks), and releases exactly once.
 * `onReady` and `onFail` are always called asynchronously, at most one of them, once.
 */
export class CallLease {
  private lease: Lease<grpc.Channel, GrpcNode> | undefined;
  private controller: AbortController | undefined;
  private phase: 'new' | 'waiting' | 'running' | 'done' = 'new';
  /**
   * Keeps the process alive from the call's start to its end (DESIGN "Process lifetime"):
   * grpc-js unrefs a connection with no active call, and the pool's timers are unref'd, so a call
   * waiting for a channel, or for its connect, would otherwise let a plain script exit.
   */
  private releaseHold: (() => void) | undefined;
  /** Set by `start` with `waitForReady`: how the call waits out nodes that cannot serve yet. */
  private readyWait: ReadyWait | undefined;

  constructor(
    private readonly context: CallContext,
    private readonly onReady: (client: grpc.Client) => void,
    private readonly onFail: (status: grpc.StatusObject, cause?: unknown) => void,
  ) {}

  get isWaiting(): boolean {
    return this.phase === 'waiting';
  }

  /**
   * Starts waiting for a channel. With `waitForReady` (grpc-js's call option, from
   * `metadata.setOptions({ waitForReady: true })`), a node that cannot serve yet (CREATE_FAILED,
   * NODE_UNAVAILABLE) does not fail the call: the acquire is tried again until the deadline (or
   * the acquire timeout), as grpc-js waits for a channel in TRANSIENT_FAILURE to become ready.
   */
  start(deadline: grpc.Deadline | undefined, waitForReady = false): void {
    if (this.phase !== 'new') return;
    this.phase = 'waiting';
    this.releaseHold = holdProcess();
    const { acquireOptions, acquireTimeoutMs } = this.context;
    const remainingMs = deadlineMs(deadline) - Date.now();
    if (remainingMs <= 0) {
      this.done();
      const status = { code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded', metadata: new grpc.Metadata() };
      process.nextTick(this.onFail, status);
      return;
    }
    const isDeadlineBound = remainingMs !== Infinity && remainingMs <= acquireTimeoutMs;
    this.controller = new AbortController();
    const userSignal = acquireOptions?.signal;
    const signal = userSignal ? AbortSignal.any([userSignal, this.controller.signal]) : this.controller.signal;
    const options: AcquireOptions = isDeadlineBound
      ? { ...acquireOptions, signal, timeoutMs: Math.max(1, Math.ceil(remainingMs)) }
      : { ...acquireOptions, signal };
    if (waitForReady) this.readyWait = new ReadyWait(Date.now() + Math.min(remainingMs, acquireTimeoutMs));
    this.acquire(options, isDeadlineBound);
  }

  private acquire(options: AcquireOptions, isDeadlineBound: boolean): void {
    this.context.pool
      .acquire(options)
      .then(
        (lease) => {
          if (this.phase !== 'waiting') {
            // Cancelled in the gap between the grant and this callback.
            lease.release().catch(noop);
            return;
          }
          this.phase = 'running';
          this.lease = lease;
          try {
            this.onReady(this.context.clients.get(lease.connection));
          } catch (error) {
            this.release();
            const status = { code: grpc.status.INTERNAL, details: String(error), metadata: new grpc.Metadata() };
            process.nextTick(this.onFail, status, error);
          }
        },
        (error: unknown) => {
          if (this.phase !== 'waiting') return;
          const retryInMs = this.readyWait?.retryInMs(error);
          if (retryInMs !== undefined) {
            this.readyWait?.schedule(retryInMs, (remainingMs) =>
              this.acquire({ ...options, timeoutMs: Math.max(1, Math.ceil(remainingMs)) }, isDeadlineBound));
            return;
          }
          this.done();
          // A wait-for-ready call whose deadline came while no node could serve ends as grpc-js's does.
          const status = this.readyWait !== undefined && isDeadlineBound && isNotReady(error)
            ? notReadyByDeadline(error)
            : statusForAcquireError(error, isDeadlineBound);
          // Outside the promise chain: a throw in user code (a stream without an 'error'
          // listener) is an uncaught exception, as with grpc-js, never an unhandled rejection.
          process.nextTick(this.onFail, status, error);
        },
      );
  }

  /** Cancels the wait for a channel and reports CANCELLED; false when the call is not waiting any more. */
  cancel(details = 'Cancelled on client'): boolean {
    if (this.phase !== 'waiting' && this.phase !== 'new') return false;
    this.done();
    this.readyWait?.stop();
    this.controller?.abort();
    process.nextTick(this.onFail, { code: grpc.status.CANCELLED, details, metadata: new grpc.Metadata() });
    return true;
  }

  /** The call is over: no more work of ours keeps the process alive. */
  private done(): void {
    this.phase = 'done';
    const release = this.releaseHold;
    this.releaseHold = undefined;
    release?.();
  }

  /** Ends the lease; later calls do nothing. */
  release(): void {
    const lease = this.lease;
    this.done();
    if (!lease) return;
    this.lease = undefined;
    lease.release().catch(noop);
  }
}
