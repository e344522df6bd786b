import { clampLimit, grantedLimit, type ConcurrencyLimit, type LimitBounds } from './limit.js';

/** Tuning of {@link Gradient2Limit}; the defaults are those of Netflix's Gradient2Limit. */
export interface Gradient2Options extends LimitBounds {
  /** How much slower than the long-term average the short-term one may get before the limit shrinks; default 1.5. */
  tolerance?: number;
  /** Weight of a new limit estimate against the current one, (0, 1]; default 0.2. */
  smoothing?: number;
  /** Samples the long-term RTT average spans (exponential, after a plain-mean warm-up of 100 samples that leave the limit as it is); default 600. */
  longWindow?: number;
  /** Headroom added while latency is flat, so the limit probes upward; default 4 (at most the limit itself). */
  queueSize?: (limit: number) => number;
  /**
   * While the limit sits at `min`, the baseline follows the long average with a window this many
   * times `longWindow`, so a backend that stays slow even at minimum concurrency is eventually
   * accepted as its new normal; default 10.
   */
  reanchorFactor?: number;
}

// The first samples only train the averages: they are the coldest (JIT, fresh connections), and a
// baseline learned from them would be taken as the backend's no-load latency.
const WARMUP_SAMPLES = 100;

/**
 * Gradient2 (Netflix concurrency-limits): compares the short-term RTT (the latest sample) with a
 * long-term exponential average. Their ratio, times a tolerance and clamped to [0.5, 1], is the
 * gradient: 1 while latency is flat, below 1 when a queue builds. The new estimate is
 * `limit × gradient (+ queueSize headroom when the gradient is 1)`, smoothed into the current one.
 *
 * Two published refinements: when the long average is more than twice the short one (the
 * backend recovered) it decays 5% a sample, so the limit can climb again; and the headroom is
 * added only when the gradient is 1, since adding it under a modest overload makes the limit
 * creep up for ever (Netflix/concurrency-limits#134).
 *
 * One deviation, measured: a pool's callers keep a node saturated, and then the long average
 * catches up with the queued latency within a window, the gradient returns to 1 and the limit
 * climbs to `max` (a synthetic knee of 8 ended at 64). So the gradient compares the short RTT
 * with a baseline, the lowest the long average has been (Gradient v1's no-load RTT, smoothed): a
 * queue cannot raise it. It is re-learned only while the limit is pinned at `min` (see
 * `reanchorFactor`), where latency is the backend's own, not queueing.
 */
export class Gradient2Limit implements ConcurrencyLimit {
  private readonly bounds: LimitBounds;
  private readonly tolerance: number;
  private readonly smoothing: number;
  private readonly longWindow: number;
  private readonly queueSize: (limit: number) => number;
  private estimate: number;
  private current: number;
  private readonly reanchorFactor: number;
  private longRttMs = 0;
  private longSamples = 0;
  private baselineMs = Infinity;

  constructor(options: Gradient2Options) {
    this.bounds = { min: options.min, max: options.max, initial: options.initial };
    this.tolerance = options.tolerance ?? 1.5;
    this.smoothing = options.smoothing ?? 0.2;
    this.longWindow = options.longWindow ?? 600;
    this.queueSize = options.queueSize ?? defaultQueueSize;
    this.reanchorFactor = options.reanchorFactor ?? 10;
    this.estimate = clampLimit(options.initial, this.bounds);
    this.current = grantedLimit(this.estimate, this.bounds);
  }

  get limit(): number {
    return this.current;
  }

  /** The long-term RTT average, ms (0 before the first sample). */
  get longRtt(): number {
    return this.longRttMs;
  }

  /** The no-load baseline the short RTT is judged against, ms (Infinity before the warm-up ends). */
  get baselineRtt(): number {
    return this.baselineMs;
  }

  onSample(_now: number, latencyMs: number, inflight: number, dropped: boolean): void {
    if (!(latencyMs >= 0) || latencyMs === Infinity) return;
    // An app-limited node (far below its limit) says nothing about where the knee is.
    if (!dropped && inflight < this.estimate / 2) return;
    const shortRtt = latencyMs > 0 ? latencyMs : 1e-3;
    this.addLong(shortRtt);
    if (this.longRttMs / shortRtt > 2) this.longRttMs *= 0.95;
    let gradient = 0.5; // a drop, even during the warm-up
    if (this.longSamples >= WARMUP_SAMPLES) {
      if (this.longRttMs < this.baselineMs) this.baselineMs = this.longRttMs;
      else if (this.estimate <= this.bounds.min) {
        this.baselineMs += (this.longRttMs - this.baselineMs) / (this.reanchorFactor * this.longWindow);
      }
      const ratio = (this.tolerance * this.baselineMs) / shortRtt;
      if (!dropped) gradient = ratio < 0.5 ? 0.5 : ratio > 1 ? 1 : ratio;
    } else if (!dropped) {
      return;
    }
    let next = this.estimate * gradient;
    if (gradient === 1) next += Math.min(this.queueSize(this.estimate), this.estimate);
    next = this.estimate * (1 - this.smoothing) + next * this.smoothing;
    this.estimate = clampLimit(next, this.bounds);
    this.current = grantedLimit(this.estimate, this.bounds);
  }

  private addLong(sample: number): void {
    if (this.longSamples < WARMUP_SAMPLES) {
      this.longSamples++;
      this.longRttMs += (sample - this.longRttMs) / this.longSamples;
      return;
    }
    const factor = 2 / (this.longWindow + 1);
    this.longRttMs = this.longRttMs * (1 - factor) + sample * factor;
  }
}

function defaultQueueSize(): number {
  return 4;
}
