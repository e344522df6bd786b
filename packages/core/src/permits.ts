import { abortAfter } from './abort.js';
import type { PooledConnection } from './connection.js';
import { PoolError, describeError } from './errors.js';
import type { ConnectionPool } from './engine.js';
import type { PoolNode } from './options.js';
import type { PoolStats } from './stats.js';

/**
 * The right to hold one connection to a node, handed out by a {@link PermitSource} (for example
 * `@pool/fleet`'s Redis semaphore, shared by every replica of a service).
 */
export interface Permit {
  /**
   * Gives the permit back. The pool calls it exactly once: after the connection's destroy has
   * settled, or when its create failed for good. A throw or rejection is reported as an
   * `'error'` event (`during: 'permit'`), never thrown.
   */
  release(): void | Promise<void>;
  /**
   * Aborted when the permit is lost (its lease expired, e.g. because this process stalled
   * past it): the pool then retires the connection at once when idle, else when its last
   * lease ends (destroy reason `'broken'`, the error a PoolError naming the node).
   */
  readonly lost: AbortSignal;
  /**
   * Optional. Asked when the connection's last lease ends: true retires the connection (destroy
   * reason `'lifetime'`) so its permit goes back to whoever else waits for one. This is how a
   * source makes permits cycle fairly between processes; without it a permit is kept until
   * the connection would be destroyed anyway.
   */
  shouldReturn?(): boolean;
  /**
   * Optional. The pool registers one listener when the permit is granted; the source calls it
   * whenever someone else waits for a permit of this node. An idle connection holding the
   * permit is then closed at once (destroy reason `'idle'`), so idle connections never sit on
   * permits others need; a leased one is left to `shouldReturn` at its release.
   */
  onWanted?(listener: () => void): void;
}

export interface PermitRequest {
  /**
   * Aborted when the pool no longer wants the permit: the acquire the create was started for
   * reached its deadline (`acquireTimeoutMs` or the call's `timeoutMs`), or the pool or node
   * winds down. Reject then; a permit that arrives after the abort is released by the pool.
   */
  signal: AbortSignal;
}

/**
 * Hands out one permit per connection: the pool asks before each create starts and gives the
 * permit back once the connection's destroy has settled. Waiting for a permit counts against
 * the acquire's timeout; `createTimeoutMs` starts once the permit is held.
 */
export interface PermitSource<N extends PoolNode = PoolNode> {
  acquire(node: N, request: PermitRequest): Promise<Permit>;
}

interface PermitCounts {
  held: number;
  waiting: number;
}

/**
 * The engine's side of `PoolOptions.permits`: gets a permit before a create, watches for its
 * loss, hands it back after the destroy, and counts for stats. Absent when no source is set,
 * so a pool without permits pays nothing.
 */
export class PermitPolicy<C, N extends PoolNode> {
  readonly held = new Map<PooledConnection<C, N>, { permit: Permit; onLost: () => void }>();
  private readonly counts = new Map<string, PermitCounts>();
  private readonly total: PermitCounts = { held: 0, waiting: 0 };

  constructor(
    private readonly source: PermitSource<N>,
    private readonly pool: ConnectionPool<C, N>,
  ) {}

  /**
   * Waits for the permit of `record`'s create, bounded by its sponsor's deadline (else
   * acquireTimeoutMs) and abortable through `attempts` (the creator aborts what is in it when
   * the pool closes). Resolves with undefined once held, else with why not.
   */
  async obtain(record: PooledConnection<C, N>, attempts: Map<PooledConnection<C, N>, AbortController>): Promise<unknown> {
    const pool = this.pool;
    const node = record.node;
    const now = pool.clock.now();
    const deadline = record.sponsor?.deadline ?? now + pool.options.acquireTimeoutMs;
    if (deadline <= now) return new PoolError('ACQUIRE_TIMEOUT', `No time was left to wait for a permit for node '${node.id}'`);
    const controller = new AbortController();
    attempts.set(record, controller);
    const timer = abortAfter(pool.clock, controller, deadline - now, 'permit wait');
    const counts = this.countsOf(node.id);
    counts.waiting++;
    this.total.waiting++;
    let permit: Permit;
    try {
      permit = await Promise.resolve().then(() => this.source.acquire(node.node, { signal: controller.signal }));
    } catch (error) {
      return error;
    } finally {
      counts.waiting--;
      this.total.waiting--;
      if (timer) pool.clock.clearTimeout(timer);
      attempts.delete(record);
    }
    if (controller.signal.aborted || pool.lifecycle.isWindingDown(node)) {
      this.giveBack(permit, node.id);
      return controller.signal.reason ?? new PoolError('POOL_CLOSED', 'The pool closed while waiting for a permit');
    }
    counts.held++;
    this.total.held++;
    const onLost = (): void => this.onLost(record, permit);
    this.held.set(record, { permit, onLost });
    record.permit = permit;
    if (permit.lost.aborted) onLost();
    else permit.lost.addEventListener('abort', onLost, { once: true });
    permit.onWanted?.(() => this.onWanted(record, permit));
    return undefined;
  }

  /** The connection's destroy settled or its create was abandoned: the permit goes back. */
  release(record: PooledConnection<C, N>): void {
    const entry = this.held.get(record);
    record.permit = undefined;
    if (entry === undefined) return;
    this.held.delete(record);
    entry.permit.lost.removeEventListener('abort', entry.onLost);
    const counts = this.countsOf(record.node.id);
    counts.held--;
    this.total.held--;
    this.giveBack(entry.permit, record.node.id);
  }

  /** For retirementReason: the source wants this idle-to-be connection's permit back. */
  shouldReturn(record: PooledConnection<C, N>): boolean {
    const permit = record.permit;
    if (permit?.shouldReturn === undefined) return false;
    try {
      return permit.shouldReturn() === true;
    } catch (error) {
      this.pool.reportError(error, 'permit', record.node.id);
      return false;
    }
  }

  /** Adds `permits` to the pool's and each node's stats. */
  addStats(stats: PoolStats): void {
    stats.permits = { held: this.total.held, waiting: this.total.waiting };
    for (const [id, node] of Object.entries(stats.nodes)) {
      const counts = this.counts.get(id);
      node.permits = counts === undefined ? { held: 0, waiting: 0 } : { held: counts.held, waiting: counts.waiting };
    }
  }

  private onWanted(record: PooledConnection<C, N>, permit: Permit): void {
    if (record.permit !== permit || record.state !== 'idle') return;
    void this.pool.lifecycle.retire(record, 'idle', undefined);
  }

  private onLost(record: PooledConnection<C, N>, permit: Permit): void {
    if (record.permit !== permit) return;
    const reason = new PoolError('CREATE_FAILED', `The permit for this connection to node '${record.node.id}' was lost: ${describeError(permit.lost.reason)}`, { cause: permit.lost.reason });
    this.pool.lifecycle.invalidate(record, reason);
  }

  private giveBack(permit: Permit, nodeId: string): void {
    Promise.resolve()
      .then(() => permit.release())
      .catch((error: unknown) => this.pool.reportError(error, 'permit', nodeId));
  }

  private countsOf(id: string): PermitCounts {
    let counts = this.counts.get(id);
    if (counts === undefined) {
      counts = { held: 0, waiting: 0 };
      this.counts.set(id, counts);
    }
    return counts;
  }
}
