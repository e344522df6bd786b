import { checkCallTimeout, holdProcess, type AcquireOptions, type Lease, type Pool } from '@pool/core';
import { errors, type Client, type Dispatcher } from 'undici';
import { sessionStateOf } from './factory.js';
import type { Http2Node } from './options.js';
import { isIdempotent, isNeverRetried, isRefusedStream, isReplayable, isSessionLossError, isSessionLost } from './retry.js';

/** Where a request goes and how it waits; every field optional, as for `pool.acquire`. */
export interface Http2RequestRouting {
  /** Send to this node only; otherwise the request's `origin` (when it is a node's) or the balancer picks. */
  node?: string;
  /** Same key -> same node while it is healthy. */
  affinityKey?: string;
  /** Counts against this partition's cap. */
  partition?: string;
  /** Higher first among waiters; default 0 or the partition's priority. */
  priority?: number;
  /** Longest wait for a stream slot; default the pool's `acquireTimeoutMs`. */
  acquireTimeoutMs?: number;
}

/** What a pooled request needs from its pool. */
export interface RequestOwner {
  readonly pool: Pool<Client, Http2Node>;
  readonly retryOnSessionLoss: boolean;
  /** Whether a request for an origin no node serves goes to a node anyway (else it is refused). */
  readonly anyOrigin: boolean;
  /** The error refusing a request for `origin`, which no node serves. */
  refusedOrigin(origin: string | URL): Error;
  /** The id of the node whose origin is `origin`, if any. */
  nodeForOrigin(origin: string | URL | undefined): string | undefined;
  /** A node whose circuit is closed and that is not one of `lost`, if any. */
  nodeAvoiding(lost: readonly string[]): string | undefined;
  /** An unused ticket for one acquire (recycled: a controller and options per request cost measurably). */
  takeAcquireTicket(): AcquireTicket;
  /** Gives back a ticket whose acquire settled without aborting it. */
  recycleAcquireTicket(ticket: AcquireTicket): void;
}

/** What one acquire needs: a way to abort it, and the options naming that signal. */
export interface AcquireTicket {
  readonly controller: AbortController;
  readonly options: AcquireOptions & { signal: AbortSignal };
}

export function newAcquireTicket(): AcquireTicket {
  const controller = new AbortController();
  return { controller, options: { signal: controller.signal } };
}

export type PooledDispatchOptions = Dispatcher.DispatchOptions & Http2RequestRouting;

function ignore(): void {}

/**
 * Retries of one request after session losses. One is the rule; a second is for when the session
 * of the first retry goes away as well, which is what a server shutting down looks like: it sends
 * GOAWAY on each of its sessions, and they arrive one after another. Each retry is on a session
 * other than the ones that failed, since those are retired.
 */
const MAX_RETRIES = 2;

/**
 * One request through the pool: takes a stream slot (a lease on a session), dispatches on that
 * session's Client, and releases the lease exactly once, when the response ends or fails (not
 * when the caller reads the body: a fully received body no longer holds a stream). A request cut
 * off by the loss of its session may be sent once more on another (see `retry.ts`).
 *
 * Subclasses speak one of undici's two handler APIs, the same one as the caller's handler, so
 * events pass through without conversion; this class holds what both share.
 */
export abstract class PooledRequest {
  protected isAborted = false;
  protected abortReason: Error | null = null;
  /**
   * Keeps the process alive until the request settles (DESIGN "Process lifetime"): undici unrefs
   * a session with no open stream, and the pool's timers are unref'd, so a request waiting for a
   * slot or a session would otherwise let a plain script exit with "unsettled top-level await".
   */
  #releaseHold: (() => void) | undefined = holdProcess();
  #isDone = false;

  /** A terminal callback (end, error or upgrade) went to the caller. */
  protected get isDone(): boolean {
    return this.#isDone;
  }

  protected set isDone(done: boolean) {
    if (!done || this.#isDone) return;
    this.#isDone = true;
    const release = this.#releaseHold;
    this.#releaseHold = undefined;
    release?.();
  }
  /** Final response headers went to the caller: from then on, no retry. */
  protected hasResponse = false;
  #attempts = 0;
  /** Nodes whose session this request lost: a server going away sends GOAWAY on all of them. */
  #lostNodes: string[] | undefined = undefined;
  #lease: Lease<Client, Http2Node> | undefined = undefined;
  #acquireTicket: AcquireTicket | undefined = undefined;

  constructor(
    private readonly owner: RequestOwner,
    protected readonly options: PooledDispatchOptions,
  ) {}

  /** Gives the caller its abort hook, then starts the first attempt. */
  abstract start(): void;

  /** The caller's handler threw before the request started: nothing will settle it, so let go. */
  abandon(): void {
    this.isDone = true;
  }

  /** Aborts the attempt in flight on its session; undici answers with an error callback. */
  protected abstract abortAttempt(reason: Error): void;

  /** Forgets the attempt's own abort hook or controller. */
  protected abstract clearAttempt(): void;

  /** The caller's error callback. */
  protected abstract deliverError(error: Error): void;

  /** What the caller's abort does, in either API. */
  protected abortRequest(reason: Error | undefined): void {
    if (this.isAborted || this.isDone) return;
    this.isAborted = true;
    this.abortReason = reason ?? new errors.RequestAbortedError();
    if (this.#acquireTicket !== undefined) this.#acquireTicket.controller.abort(this.abortReason);
    else if (this.#lease !== undefined) this.abortAttempt(this.abortReason);
  }

  protected run(): void {
    if (this.isAborted) {
      this.fail(this.abortReason ?? new errors.RequestAbortedError());
      return;
    }
    if (this.#attempts === 0 && this.options.acquireTimeoutMs !== undefined) {
      try {
        checkCallTimeout('acquireTimeoutMs', this.options.acquireTimeoutMs);
      } catch (error) {
        this.fail(error as Error);
        return;
      }
    }
    this.#attempts += 1;
    const ticket = this.owner.takeAcquireTicket();
    this.#acquireTicket = ticket;
    const acquireOptions = this.#acquireOptions(ticket);
    if (acquireOptions === undefined) {
      this.#recycleAcquireTicket();
      this.fail(this.owner.refusedOrigin(this.options.origin as string | URL));
      return;
    }
    // A free stream slot is taken and the request dispatched in this same call, as undici's Pool
    // does: deferring the dispatch by even one promise reaction (acquire's) measurably raised p50
    // and p99 at 200 concurrent streams (see the README's benchmark section).
    const lease = this.owner.pool.tryAcquire(acquireOptions);
    if (lease !== undefined) {
      this.#onLease(lease);
      return;
    }
    this.owner.pool.acquire(acquireOptions).then(this.#onLease, this.#onAcquireFailed);
  }

  readonly #onLease = (lease: Lease<Client, Http2Node>): void => {
    this.#recycleAcquireTicket();
    if (this.isAborted) {
      lease.release().catch(ignore);
      this.fail(this.abortReason ?? new errors.RequestAbortedError());
      return;
    }
    this.#lease = lease;
    try {
      lease.connection.dispatch(this.#dispatchOptions(), this as unknown as Dispatcher.DispatchHandler);
    } catch (error) {
      // undici reports bad options through the handler; anything thrown here is unexpected.
      this.releaseLease();
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  };

  readonly #onAcquireFailed = (error: unknown): void => {
    this.#recycleAcquireTicket();
    this.fail(this.isAborted && this.abortReason !== null ? this.abortReason : (error as Error));
  };

  /** The response (or upgrade) is complete: the stream slot is free. */
  protected releaseLease(): void {
    const lease = this.#lease;
    if (lease === undefined) return;
    this.#lease = undefined;
    lease.release().catch(ignore);
  }

  /** Hands the lease to the caller's upgraded socket, released when it closes. */
  protected takeLease(): Lease<Client, Http2Node> | undefined {
    const lease = this.#lease;
    this.#lease = undefined;
    return lease;
  }

  protected fail(error: Error): void {
    if (this.isDone) return;
    this.isDone = true;
    try {
      this.deliverError(error);
    } catch (thrown) {
      // The caller's own error callback threw: surface it the way undici does (an uncaught
      // exception), never as an unhandled rejection of a promise nobody holds.
      queueMicrotask(() => {
        throw thrown;
      });
    }
  }

  /** The attempt on a session failed: free its slot, then retry once or report. */
  protected attemptFailed(error: Error): void {
    const client = this.#lease?.connection;
    const nodeId = this.#lease?.node.id;
    this.clearAttempt();
    if (client !== undefined && isSessionLossError(error)) sessionStateOf(client)?.retire(error);
    this.releaseLease();
    if (client === undefined || nodeId === undefined || !this.#mayRetry(error)) {
      this.fail(error);
      return;
    }
    // A stream often fails a moment before its session reports the loss, and the other sessions
    // to the same peer may be going too: decide, and pick the next session, once those events are in.
    setImmediate(() => this.#retryOrFail(error, client, nodeId));
  }

  #recycleAcquireTicket(): void {
    const ticket = this.#acquireTicket;
    this.#acquireTicket = undefined;
    // The pool read the options and removed its listener when the acquire settled; an aborted controller is spent.
    if (ticket !== undefined && !ticket.controller.signal.aborted) this.owner.recycleAcquireTicket(ticket);
  }

  /**
   * undici holds a request it does not consider idempotent until its session has no other stream
   * in flight (an HTTP/1.1 pipelining rule); over HTTP/2 streams are independent, and the pool
   * decides retries itself, so every request is dispatched as idempotent.
   */
  #dispatchOptions(): Dispatcher.DispatchOptions {
    const { options } = this;
    if (options.idempotent === true || (options.idempotent === undefined && (options.method === 'GET' || options.method === 'HEAD'))) {
      return options;
    }
    return { ...options, idempotent: true };
  }

  /** Where the attempt goes; undefined refuses it: its `origin` is no node's and the pool serves only its own. */
  #acquireOptions(ticket: AcquireTicket): AcquireOptions | undefined {
    const { node, affinityKey, partition, priority, acquireTimeoutMs, origin } = this.options;
    let nodeId = node ?? this.owner.nodeForOrigin(origin);
    if (nodeId === undefined && node === undefined && origin !== undefined && !this.owner.anyOrigin) return undefined;
    // A retry the caller did not route goes to another node while one is healthy: the server
    // that sent GOAWAY on one session is sending it on its others too.
    if (nodeId === undefined && affinityKey === undefined && this.#lostNodes !== undefined) {
      nodeId = this.owner.nodeAvoiding(this.#lostNodes);
    }
    if (nodeId === undefined && affinityKey === undefined && partition === undefined && priority === undefined && acquireTimeoutMs === undefined) {
      return ticket.options;
    }
    const acquire: AcquireOptions = { signal: ticket.controller.signal };
    if (nodeId !== undefined) acquire.node = nodeId;
    if (affinityKey !== undefined) acquire.affinityKey = affinityKey;
    if (partition !== undefined) acquire.partition = partition;
    if (priority !== undefined) acquire.priority = priority;
    if (acquireTimeoutMs !== undefined) acquire.timeoutMs = acquireTimeoutMs;
    return acquire;
  }

  #mayRetry(error: Error): boolean {
    return (
      this.owner.retryOnSessionLoss &&
      this.#attempts <= MAX_RETRIES &&
      !this.hasResponse &&
      !this.isAborted &&
      !this.isDone &&
      !isNeverRetried(error) &&
      isReplayable(this.options.body)
    );
  }

  #retryOrFail(error: Error, client: Client, nodeId: string): void {
    if (this.isAborted) {
      this.fail(this.abortReason ?? error);
      return;
    }
    if (isRefusedStream(error) || (isIdempotent(this.options) && isSessionLost(error, client))) {
      (this.#lostNodes ??= []).push(nodeId);
      this.run();
      return;
    }
    this.fail(error);
  }
}
