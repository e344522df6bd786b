import type { NodeState } from './records.js';
import type { CircuitBreakerOptions, PoolNode } from './options.js';

/** The shortest wait before a trial create when every circuit is open, ms. */
export const MIN_PROBE_DELAY_MS = 100;

/**
 * When an open circuit lets its one trial create through (DESIGN: "Circuit breaker" and "All
 * circuits open"). Among healthy nodes, an open circuit waits the whole `cooldownMs`: the dead
 * node is kept out of the way. When every node of the pool has its circuit open, no request can
 * be served at all, so waiting out a cooldown would turn a backend that restarts in 300 ms into
 * a 10 s outage: the pool probes instead, the wait after the circuit opened being
 * `createRetry.baseDelayMs` (at least MIN_PROBE_DELAY_MS), doubled after each failed trial,
 * capped at `cooldownMs`. Still one
 * trial at a time per node (half-open lets exactly one create through).
 */
export class CircuitPolicy<C, N extends PoolNode> {
  private readonly probeBaseMs: number;

  constructor(
    private readonly breaker: CircuitBreakerOptions | false,
    retryBaseDelayMs: number,
    private readonly books: { readonly openCircuits: number; readonly nodeList: readonly NodeState<C, N>[] },
  ) {
    // A createRetry without backoff (baseDelayMs 0 or a few ms, common in tests and for fast
    // failover) must not make every acquire a trial create of a dead backend.
    this.probeBaseMs = Math.max(retryBaseDelayMs, MIN_PROBE_DELAY_MS);
  }

  /** True when no node has a closed circuit (and there is a node). */
  get isEveryCircuitOpen(): boolean {
    const count = this.books.nodeList.length;
    return count > 0 && this.books.openCircuits >= count;
  }

  /** How long an open circuit of `node` waits before its trial, judged now. */
  waitMs(node: NodeState<C, N>): number {
    if (!this.breaker) return 0;
    const { cooldownMs } = this.breaker;
    if (!this.isEveryCircuitOpen) return cooldownMs;
    return Math.min(cooldownMs, this.probeBaseMs * 2 ** node.failedTrials);
  }

  /** Moves an open circuit to half-open once its wait has passed. */
  refresh(node: NodeState<C, N>, now: number): void {
    if (node.circuit !== 'open' || !this.breaker) return;
    if (now - node.openedAt >= this.waitMs(node)) node.halfOpen();
  }
}
