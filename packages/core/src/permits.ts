import { abortAfter } from './abort.js';
import { PoolError, describeError } from './errors.js';
import type { DestroyReason } from './events.js';
import type { Permit, PermitSource } from './permit-source.js';
import type { PoolNode, ResolvedOptions } from './options.js';
import type { NodeState, PooledConnection } from './records.js';
import type { Clock } from './clock.js';
import type { PoolStats } from './stats.js';

interface PermitCounts {
  held: number;
  waiting: number;
}

/**
 * The engine's side of `PoolOptions.permits`: gets a permit before a create, watches for its
 * loss, hands it back after the destroy, and counts for stats. Absent when no source is set,
 * so a pool without permits pays nothing.
 */
/** What the permit policy uses of the engine. */
export interface PermitPool<C, N extends PoolNode> {
  readonly clock: Clock;
  readonly options: Pick<ResolvedOptions<C, N>, 'acquireTimeoutMs'>;
  readonly lifecycle: {
    isWindingDown(node: NodeState<C, N>): boolean;
    retire(record: PooledConnection<C, N>, reason: DestroyReason, error: unknown): Promise<void>;
    invalidate(record: PooledConnection<C, N>, reason: unknown): void;
  };
  reportError(error: unknown, where: string, nodeId?: string): void;
}

export class PermitPolicy<C, N extends PoolNode> {
  readonly held = new Map<PooledConnection<C, N>, { permit: Permit; onLost: () => void }>();
  private readonly counts = new Map<string, PermitCounts>();
  private readonly total: PermitCounts = { held: 0, waiting: 0 };

  constructor(
    private readonly source: PermitSource<N>,
    private readonly pool: PermitPool<C, N>,
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
