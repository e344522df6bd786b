import type { Clock, ClockTimer } from './clock.js';
import { setUnrefTimeout } from './clock.js';
import { describeError } from './errors.js';
import type { NodeState, PooledConnection } from './records.js';
import type { CircuitPolicy } from './circuit-policy.js';
import type { ConnectionCreator } from './creator.js';
import type { PoolEmitter } from './events.js';
import type { PoolLease } from './lease.js';
import type { PoolLedger } from './ledger.js';
import type { ConnectionLifecycle } from './lifecycle.js';
import type { AcquireOptions, Lease, PoolNode, ResolvedOptions } from './options.js';
import type { NodeHealth, PoolHealthReport } from './stats.js';

/**
 * What the maintainer touches on its tick and in health(): the timing options, the nodes and
 * their circuits, idle connections (destroy, validate, back to idle), warm-up creates, the
 * leases it watches for leaks, and acquire itself for a health probe of an empty node.
 */
export interface MaintainedPool<C, N extends PoolNode>
  extends Pick<PoolLedger<C, N>, 'setState' | 'makeIdle' | 'afterChange' | 'nodeList' | 'total' | 'counters'>,
    Pick<PoolEmitter, 'emit'> {
  readonly options: Pick<
    ResolvedOptions<C, N>,
    'factory' | 'idleTimeoutMs' | 'maxLifetimeMs' | 'healthCheckIntervalMs' | 'leakDetectionMs' | 'minIdlePerNode' | 'maxPerNode' | 'maxTotal' | 'createTimeoutMs'
  >;
  readonly clock: Clock;
  readonly isClosed: boolean;
  /** The pool's latest reading of its clock; each tick refreshes it. */
  lastNow: number;
  readonly circuits: Pick<CircuitPolicy<C, N>, 'refresh'>;
  readonly lifecycle: Pick<ConnectionLifecycle<C, N>, 'destroy' | 'validate' | 'retirementReason'>;
  readonly creator: Pick<ConnectionCreator<C, N>, 'start'>;
  readonly leakWatch: ReadonlySet<PoolLease<C, N>> | undefined;
  /** Hands freed capacity to waiters. */
  pump(now?: number): void;
  acquire(options?: AcquireOptions): Promise<Lease<C, N>>;
}

/**
 * The pool's one background timer: evicts idle and expired connections, validates idle ones,
 * keeps minIdlePerNode warm, reports leaks and lets open circuits cool down.
 */
export class Maintainer<C, N extends PoolNode> {
  private timer: ClockTimer | undefined;
  private readonly intervalMs: number;
  /** Idle connections under background validation, per node: still idle as far as warm-up counts. */
  private readonly checking = new Map<NodeState<C, N>, number>();

  constructor(private readonly pool: MaintainedPool<C, N>) {
    const { idleTimeoutMs, maxLifetimeMs, healthCheckIntervalMs, leakDetectionMs } = pool.options;
    const candidates = [1000, idleTimeoutMs / 2, maxLifetimeMs / 2, healthCheckIntervalMs, leakDetectionMs / 2].filter((ms) => ms > 0);
    this.intervalMs = Math.max(1, Math.min(...candidates));
  }

  start(): void {
    this.warm(this.pool.clock.now());
    this.schedule();
  }

  stop(): void {
    if (this.timer) this.pool.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.timer = setUnrefTimeout(this.pool.clock, () => this.tick(), this.intervalMs);
  }

  tick(): void {
    const pool = this.pool;
    if (pool.isClosed) return;
    const now = pool.clock.now();
    pool.lastNow = now;
    for (const node of pool.nodeList) {
      pool.circuits.refresh(node, now);
      this.sweep(node, now);
    }
    this.warm(now);
    this.reportLeaks(now);
    pool.pump();
    this.schedule();
  }

  private sweep(node: NodeState<C, N>, now: number): void {
    const pool = this.pool;
    const { idleTimeoutMs, healthCheckIntervalMs, minIdlePerNode } = pool.options;
    const hasValidate = pool.options.factory.validate !== undefined;
    for (const record of node.connections) {
      if (record.state !== 'idle') continue;
      if (record.expiresAt <= now) {
        void pool.lifecycle.destroy(record, 'lifetime', undefined);
      } else if (idleTimeoutMs > 0 && now - record.idleSince >= idleTimeoutMs && node.idle > minIdlePerNode) {
        void pool.lifecycle.destroy(record, 'idle', undefined);
      } else if (hasValidate && healthCheckIntervalMs > 0 && now - record.lastValidatedAt >= healthCheckIntervalMs) {
        void this.check(record);
      }
    }
  }

  /** Validates an idle connection in the background; it is not handed out meanwhile. */
  private async check(record: PooledConnection<C, N>): Promise<boolean> {
    const pool = this.pool;
    pool.setState(record, 'validating');
    const node = record.node;
    this.checking.set(node, (this.checking.get(node) ?? 0) + 1);
    let isValid: boolean;
    try {
      isValid = await pool.lifecycle.validate(record, 'idle');
    } finally {
      const count = (this.checking.get(node) ?? 1) - 1;
      if (count === 0) this.checking.delete(node);
      else this.checking.set(node, count);
    }
    if (record.state !== 'validating') return isValid;
    if (!isValid || record.isRetired || pool.isClosed || record.node.isRemoved || record.node.isDraining) {
      // Retired during the check: say why (node removed, drain, invalidated) as for an idle one.
      const reason = isValid ? (pool.lifecycle.retirementReason(record, pool.clock.now()) ?? 'drain') : 'invalid';
      await pool.lifecycle.destroy(record, reason, record.retiredBecause);
      return isValid;
    }
    pool.makeIdle(record, pool.clock.now(), false);
    pool.afterChange();
    return true;
  }

  /** Creates connections until every node has minIdlePerNode idle, being created or being checked. */
  warm(now: number): void {
    const pool = this.pool;
    const { minIdlePerNode, maxPerNode, maxTotal } = pool.options;
    if (minIdlePerNode === 0 || pool.isClosed) return;
    for (const node of pool.nodeList) {
      pool.circuits.refresh(node, now);
      const checking = this.checking.get(node) ?? 0;
      while (node.idle + node.creating + checking < minIdlePerNode && node.total < maxPerNode && pool.total < maxTotal && node.isSelectable && node.mayCreate) {
        pool.creator.start(node, undefined);
      }
    }
  }

  private reportLeaks(now: number): void {
    const pool = this.pool;
    if (!pool.leakWatch) return;
    const limit = pool.options.leakDetectionMs;
    for (const lease of pool.leakWatch) {
      const heldMs = now - lease.acquiredAt;
      if (lease.isLeakReported || heldMs < limit) continue;
      lease.isLeakReported = true;
      pool.counters.leaksDetected++;
      pool.emit('leak', { node: lease.record.node.id, heldMs, stack: lease.stack ?? '' });
    }
  }

  /** Validates every idle connection now; a node with no connection is probed with one create. */
  async checkHealth(): Promise<PoolHealthReport> {
    const pool = this.pool;
    const checkedAt = pool.clock.now();
    const entries = await Promise.all(pool.nodeList.map(async (node): Promise<[string, NodeHealth]> => [node.id, await this.checkNode(node)]));
    const nodes: Record<string, NodeHealth> = {};
    for (const [id, health] of entries) nodes[id] = health;
    return { healthy: entries.length > 0 && entries.every(([, health]) => health.healthy), checkedAt, nodes };
  }

  private async checkNode(node: NodeState<C, N>): Promise<NodeHealth> {
    const pool = this.pool;
    pool.circuits.refresh(node, pool.clock.now());
    let isHealthy = node.circuit !== 'open';
    if (isHealthy && !pool.isClosed) {
      const idle = [...node.connections].filter((record) => record.state === 'idle');
      if (idle.length > 0) {
        const results = await Promise.all(idle.map((record) => this.check(record)));
        isHealthy = results.some(Boolean) || node.active > 0;
      } else if (node.total === 0) {
        isHealthy = await this.probe(node);
      }
    }
    const report: NodeHealth = { healthy: isHealthy && node.circuit !== 'open', active: node.active, idle: node.idle, pending: node.creating };
    if (node.lastError !== undefined) report.lastError = node.lastError;
    return report;
  }

  private async probe(node: NodeState<C, N>): Promise<boolean> {
    try {
      const lease = await this.pool.acquire({ node: node.id, timeoutMs: this.pool.options.createTimeoutMs === Infinity ? 30_000 : this.pool.options.createTimeoutMs });
      await lease.release();
      return true;
    } catch (error) {
      node.lastError ??= describeError(error);
      return false;
    }
  }
}
