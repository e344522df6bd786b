import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { invalidOption, rejectUnknownOptions, type Permit, type PermitRequest, type PermitSource, type PoolNode } from '@pool/core';
import { Contention } from './contention.js';
import { FleetPermit } from './permit.js';
import { FleetSemaphore } from './semaphore.js';

export interface RedisPermitsOptions {
  /** An ioredis client you own (connected or connecting); never closed by this package. */
  redis: Redis;
  /** Key prefix; each node's semaphore lives at `<key>:<node id>` (redis-semaphore prefixes `semaphore:`). */
  key: string;
  /** Permits per node across every replica using the same Redis and key: the connections that backend may get. */
  max: number;
  /**
   * How long a permit outlives its holder without a refresh; default 10_000 ms. A replica killed
   * with SIGKILL gives its permits back within this; a refresh runs every leaseMs / 4.
   */
  leaseMs?: number;
  /**
   * Fair cycling: a permit held at least this long is given back when its connection's last
   * lease ends, if another replica waits for a permit of that node. Default 1_000 ms; Infinity
   * = never cycle (first come keeps its permits).
   */
  holdMs?: number;
  /** Pause between tries while all permits are taken; default 50 ms. Lower = faster hand-over, more Redis load. */
  retryIntervalMs?: number;
  /** Called with Redis errors of the background work (refresh, contention); default none (the errors are dropped). */
  onError?: (error: unknown) => void;
}

const OPTION_NAMES = ['redis', 'key', 'max', 'leaseMs', 'holdMs', 'retryIntervalMs', 'onError'] as const;

/** A {@link PermitSource} with a `close()` that stops its background timer. */
export interface RedisPermitSource extends PermitSource {
  /** Permits this process holds now, over all nodes. */
  readonly held: number;
  /** Stops the contention timer; permits still held keep refreshing until their pool releases them. */
  close(): void;
}

/**
 * Permits from one redis-semaphore Semaphore per node key, so `max` bounds the connections to
 * each backend across every replica. Give it to a pool as `permits`.
 */
export function redisPermits(options: RedisPermitsOptions): RedisPermitSource {
  if (options === null || typeof options !== 'object') throw invalidOption('redisPermits options', options, 'must be { redis, key, max }');
  rejectUnknownOptions(options, OPTION_NAMES);
  const { redis, key } = options;
  if (redis === null || typeof redis !== 'object' || typeof (redis as { eval?: unknown }).eval !== 'function' || typeof (redis as { pipeline?: unknown }).pipeline !== 'function') {
    throw invalidOption('redis', redis, 'must be an ioredis client', 'a non-client');
  }
  if (typeof key !== 'string' || key.length === 0) throw invalidOption('key', key, 'must be a non-empty string');
  const max = positive('max', options.max, undefined, true);
  const leaseMs = positive('leaseMs', options.leaseMs, 10_000, false);
  if (leaseMs < 100) throw invalidOption('leaseMs', leaseMs, 'must be >= 100');
  const holdMs = options.holdMs === Infinity ? Infinity : positive('holdMs', options.holdMs, 1_000, false, 0);
  const retryIntervalMs = positive('retryIntervalMs', options.retryIntervalMs, 50, false);
  const onError = options.onError ?? (() => undefined);
  if (typeof onError !== 'function') throw invalidOption('onError', onError, 'must be a function');
  return new RedisPermits(redis, key, max, leaseMs, holdMs, retryIntervalMs, onError);
}

function positive(option: string, value: unknown, fallback: number | undefined, integer: boolean, min = 1): number {
  const resolved = value === undefined ? fallback : value;
  if (typeof resolved !== 'number' || !Number.isFinite(resolved) || resolved < min || (integer && !Number.isInteger(resolved))) {
    throw invalidOption(option, value, `must be a finite ${integer ? 'integer' : 'number'} >= ${min}`);
  }
  return resolved;
}

class RedisPermits implements RedisPermitSource {
  private readonly replicaId = randomUUID();
  private readonly contention: Contention;
  private readonly permits = new Set<FleetPermit>();
  private readonly heldKeys = new Map<string, number>();
  private readonly timer: ReturnType<typeof setInterval>;
  private isTicking = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly max: number,
    private readonly leaseMs: number,
    private readonly holdMs: number,
    private readonly retryIntervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.contention = new Contention(redis, this.replicaId, leaseMs, onError);
    const tickMs = Math.min(leaseMs / 4, 250);
    this.timer = setInterval(() => void this.tick(), tickMs);
    this.timer.unref();
  }

  get held(): number {
    return this.permits.size;
  }

  async acquire(node: PoolNode, request: PermitRequest): Promise<Permit> {
    const nodeKey = `${this.prefix}:${node.id}`;
    const semaphore = new FleetSemaphore(this.redis, nodeKey, this.max, {
      lockTimeout: this.leaseMs,
      acquireTimeout: 2 ** 31,
      acquireAttemptsLimit: 1, // one try per call (and a retryInterval pause when it fails): take() loops
      retryInterval: this.retryIntervalMs,
      refreshInterval: Math.round(this.leaseMs / 4),
      onLockLost: (error) => permit?.markLost(error),
    }, this.onError);
    let permit: FleetPermit | undefined;
    this.contention.startWaiting(nodeKey);
    try {
      await this.take(semaphore, nodeKey, request.signal);
    } finally {
      this.contention.stopWaiting(nodeKey);
    }
    semaphore.confirmedAt = Date.now();
    permit = new FleetPermit(semaphore, nodeKey, this.leaseMs, this.holdMs, this.contention, (done) => this.forget(done), () => this.heldOn(nodeKey) > this.contention.fairShare(nodeKey, this.max));
    this.permits.add(permit);
    this.heldKeys.set(nodeKey, (this.heldKeys.get(nodeKey) ?? 0) + 1);
    this.contention.watch(nodeKey);
    return permit;
  }

  /**
   * Tries until the semaphore gives a permit or the signal aborts. While other replicas wait, a
   * replica at or above its fair share does not try (it would only take what others wait for),
   * and its first try comes after a random pause (no instant re-grab of a permit it just gave back).
   */
  private async take(semaphore: FleetSemaphore, nodeKey: string, signal: AbortSignal): Promise<void> {
    if (this.contention.isContended(nodeKey)) await delay(Math.random() * this.retryIntervalMs * 2, signal);
    for (;;) {
      signal.throwIfAborted();
      const isContended = this.contention.isContended(nodeKey);
      if (isContended && this.heldOn(nodeKey) >= this.contention.fairShare(nodeKey, this.max)) {
        await delay(this.retryIntervalMs, signal);
        continue;
      }
      if (await semaphore.tryAcquire(signal)) return;
    }
  }

  /** Permits of this node key this replica holds. */
  heldOn(nodeKey: string): number {
    return this.heldKeys.get(nodeKey) ?? 0;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private forget(permit: FleetPermit): void {
    if (!this.permits.delete(permit)) return;
    const count = (this.heldKeys.get(permit.nodeKey) ?? 1) - 1;
    if (count > 0) this.heldKeys.set(permit.nodeKey, count);
    else this.heldKeys.delete(permit.nodeKey);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    for (const permit of this.permits) permit.checkLease(now);
    if (this.isTicking) return;
    this.isTicking = true;
    try {
      await this.contention.tick(new Set(this.heldKeys.keys()));
      for (const permit of this.permits) if (this.contention.isContended(permit.nodeKey)) permit.notifyWanted();
    } finally {
      this.isTicking = false;
    }
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
