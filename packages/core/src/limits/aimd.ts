import { clampLimit, grantedLimit, type ConcurrencyLimit, type LimitBounds } from './limit.js';

/** Tuning of {@link AimdLimit}. */
export interface AimdOptions extends LimitBounds {
  /** Factor the limit is multiplied by on a drop, (0, 1); default 0.9. */
  backoffRatio?: number;
  /** A sample slower than this counts as a drop, ms; default 5_000. */
  timeoutMs?: number;
  /** Added to the limit per limit's worth of successes (one round, as in TCP) while the node uses at least half of it; default 1. */
  increase?: number;
}

/**
 * Additive increase, multiplicative decrease (TCP Reno's loss response, as in Netflix's AIMDLimit):
 * a drop, or a sample slower than `timeoutMs`, multiplies the limit by `backoffRatio`; each success
 * while the node is using at least half of its limit adds `increase / limit`, so the limit grows by
 * `increase` a round (TCP's congestion avoidance; Netflix adds it per sample, which overshoots). It reacts to loss only, so
 * it finds the knee when the operations have deadlines that the queueing past the knee breaks.
 */
export class AimdLimit implements ConcurrencyLimit {
  private readonly bounds: LimitBounds;
  private readonly backoffRatio: number;
  private readonly timeoutMs: number;
  private readonly increase: number;
  private estimate: number;
  private current: number;

  constructor(options: AimdOptions) {
    this.bounds = { min: options.min, max: options.max, initial: options.initial };
    this.backoffRatio = options.backoffRatio ?? 0.9;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.increase = options.increase ?? 1;
    this.estimate = clampLimit(options.initial, this.bounds);
    this.current = grantedLimit(this.estimate, this.bounds);
  }

  get limit(): number {
    return this.current;
  }

  onSample(_now: number, latencyMs: number, inflight: number, dropped: boolean): void {
    if (Number.isNaN(latencyMs)) return;
    let next = this.estimate;
    if (dropped || latencyMs > this.timeoutMs) next = this.estimate * this.backoffRatio;
    else if (inflight * 2 >= this.estimate) next = this.estimate + this.increase / this.estimate;
    else return;
    this.estimate = clampLimit(next, this.bounds);
    this.current = grantedLimit(this.estimate, this.bounds);
  }
}
