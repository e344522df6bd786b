import type { Clock } from '../clock.js';
import type { ConcurrencyLimit, LimitBounds } from './limit.js';

/** What {@link AdaptiveLimiter} reports when a node's limit moves. */
export interface LimitChange {
  /** The node's id. */
  node: string;
  /** The new limit. */
  limit: number;
  /** The limit before this sample. */
  previous: number;
}

/** Builds one node's algorithm; called the first time the limiter hears of the node. */
export type ConcurrencyLimitFactory = (bounds: LimitBounds) => ConcurrencyLimit;

/** What the limiter needs from its owner: time and the one callback it fires. */
export interface AdaptiveLimiterContext {
  clock: Pick<Clock, 'now'>;
  onLimitChange?: (change: LimitChange) => void;
}

interface NodeLimit {
  algorithm: ConcurrencyLimit;
  inflight: number;
}

/**
 * The per-node concurrency policy the engine consults: a lease may go to a node only while
 * {@link mayGrant} says so; the engine reports each lease's start and end, and the end's latency
 * feeds that node's algorithm. It keeps only counts and the algorithm per node, so a grant or an
 * end costs a Map lookup and a few arithmetic operations.
 */
export class AdaptiveLimiter {
  private readonly nodes = new Map<string, NodeLimit>();

  constructor(
    private readonly bounds: LimitBounds,
    private readonly createLimit: ConcurrencyLimitFactory,
    private readonly context: AdaptiveLimiterContext,
  ) {}

  /** True while `node` has fewer leases in flight than its limit. */
  mayGrant(node: string): boolean {
    const state = this.stateOf(node);
    return state.inflight < state.algorithm.limit;
  }

  /** A lease on `node` started (counts against its limit until {@link onLeaseEnd}). */
  onLeaseStart(node: string): void {
    this.stateOf(node).inflight++;
  }

  /**
   * A lease on `node` ended after `latencyMs`; `dropped` when it failed as an overloaded backend
   * fails. The sample is taken with the lease still counted in flight.
   */
  onLeaseEnd(node: string, latencyMs: number, dropped: boolean): void {
    const state = this.stateOf(node);
    const previous = state.algorithm.limit;
    state.algorithm.onSample(this.context.clock.now(), latencyMs, state.inflight, dropped);
    if (state.inflight > 0) state.inflight--;
    const limit = state.algorithm.limit;
    if (limit !== previous) this.context.onLimitChange?.({ node, limit, previous });
  }

  /** The current limit of `node` (its initial limit before any sample). */
  limitOf(node: string): number {
    return this.stateOf(node).algorithm.limit;
  }

  /** Leases in flight on `node` as the limiter counts them. */
  inflightOf(node: string): number {
    return this.nodes.get(node)?.inflight ?? 0;
  }

  /** Forgets a removed node; one added again later starts from the initial limit. */
  forget(node: string): void {
    this.nodes.delete(node);
  }

  private stateOf(node: string): NodeLimit {
    let state = this.nodes.get(node);
    if (state === undefined) {
      state = { algorithm: this.createLimit(this.bounds), inflight: 0 };
      this.nodes.set(node, state);
    }
    return state;
  }
}
