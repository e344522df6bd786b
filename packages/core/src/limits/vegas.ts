import { clampLimit, grantedLimit, type ConcurrencyLimit, type LimitBounds } from './limit.js';

/** Tuning of {@link VegasLimit}. */
export interface VegasOptions extends LimitBounds {
  /** Weight of a new estimate against the current one, (0, 1]; default 1 (no smoothing). */
  smoothing?: number;
  /**
   * Samples over which the no-load RTT creeps up toward the latest sample, so a backend that got
   * permanently slower is not judged against its old best for ever; default 50_000.
   */
  forgetWindow?: number;
}

/**
 * TCP Vegas's delay-based control (as in Netflix's VegasLimit): the no-load RTT is the lowest
 * latency seen; a sample's queue estimate is `limit × (1 − noLoadRtt / rtt)`, the operations
 * waiting rather than being served. With `l = log10(limit)`: a queue under `l` grows the limit by
 * `6l`, under `3l` by `l`; over `6l` shrinks it by `l`; in between it holds. A drop shrinks it by `l`.
 *
 * Deviation, measured: Netflix re-probes by taking one sample as the new no-load RTT every
 * `30 × limit` samples; a pool's callers keep the node saturated, so that sample is a queued one
 * and the limit climbed to `max` (a synthetic knee of 8 ended near 60). Here the no-load RTT is
 * the lowest sample, creeping up toward newer samples over `forgetWindow` samples instead.
 */
export class VegasLimit implements ConcurrencyLimit {
  private readonly bounds: LimitBounds;
  private readonly smoothing: number;
  private readonly forgetWindow: number;
  private estimate: number;
  private current: number;
  private noLoadRttMs = Infinity;

  constructor(options: VegasOptions) {
    this.bounds = { min: options.min, max: options.max, initial: options.initial };
    this.smoothing = options.smoothing ?? 1;
    this.forgetWindow = options.forgetWindow ?? 50_000;
    this.estimate = clampLimit(options.initial, this.bounds);
    this.current = grantedLimit(this.estimate, this.bounds);
  }

  get limit(): number {
    return this.current;
  }

  /** The no-load RTT: the lowest latency seen, slowly forgotten, ms (Infinity before the first sample). */
  get noLoadRtt(): number {
    return this.noLoadRttMs;
  }

  onSample(_now: number, latencyMs: number, inflight: number, dropped: boolean): void {
    if (!(latencyMs >= 0) || latencyMs === Infinity) return;
    const step = Math.max(1, Math.log10(this.estimate));
    let next: number;
    if (dropped) next = this.estimate - step;
    else if (latencyMs < this.noLoadRttMs) {
      this.noLoadRttMs = latencyMs;
      return;
    } else if (inflight * 2 < this.estimate) return;
    else {
      this.noLoadRttMs += (latencyMs - this.noLoadRttMs) / this.forgetWindow;
      const rtt = latencyMs > 0 ? latencyMs : 1e-3;
      const queue = Math.ceil(this.estimate * (1 - this.noLoadRttMs / rtt));
      if (queue <= step) next = this.estimate + 6 * step;
      else if (queue < 3 * step) next = this.estimate + step;
      else if (queue > 6 * step) next = this.estimate - step;
      else return;
    }
    next = this.estimate * (1 - this.smoothing) + next * this.smoothing;
    this.estimate = clampLimit(next, this.bounds);
    this.current = grantedLimit(this.estimate, this.bounds);
  }
}
