import type { LimitBounds } from '../options.js';

/**
 * One concurrency-limit algorithm for one node: it reads operation latencies and says how many
 * operations may be in flight at once. Implementations: {@link Gradient2Limit}, {@link AimdLimit},
 * {@link VegasLimit}. They hold no timers and allocate nothing per sample.
 */
export interface ConcurrencyLimit {
  /** The current limit: an integer within the algorithm's [min, max]. */
  readonly limit: number;
  /**
   * Feeds one finished operation.
   * @param now clock time of the sample, ms epoch
   * @param latencyMs how long the operation took, ms
   * @param inflight operations in flight on the node when it finished, this one included
   * @param dropped true when it failed the way an overloaded backend fails (timeout, overload answer)
   */
  onSample(now: number, latencyMs: number, inflight: number, dropped: boolean): void;
}

/** `value` clamped into [min, max]. */
export function clampLimit(value: number, bounds: LimitBounds): number {
  return value < bounds.min ? bounds.min : value > bounds.max ? bounds.max : value;
}

/** The integer limit an estimate grants: floored, never below min. */
export function grantedLimit(estimate: number, bounds: LimitBounds): number {
  const floored = Math.floor(estimate);
  return floored < bounds.min ? bounds.min : floored;
}

export type { LimitBounds } from '../options.js';
