/*
 * Operation latencies, in fixed memory: a soak runs hundreds of thousands of operations and must
 * not grow its own heap while it measures the pools' (see the heap check).
 */

/** Each bucket is 5% wider than the one below: percentiles within 5%. */
const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);
/** Bucket 0 holds everything up to 10 µs; the last one everything from ~10 minutes up. */
const FLOOR_MS = 0.01;
const BUCKETS = 1 + Math.ceil(Math.log(600_000 / FLOOR_MS) / LOG_GROWTH);

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #count = 0;
  #max = 0;

  get count(): number {
    return this.#count;
  }

  get max(): number {
    return this.#max;
  }

  record(ms: number): void {
    const bucket = ms <= FLOOR_MS ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms / FLOOR_MS) / LOG_GROWTH));
    this.#counts[bucket] = (this.#counts[bucket] ?? 0) + 1;
    this.#count++;
    if (ms > this.#max) this.#max = ms;
  }

  /** The `fraction` quantile (0.99 = p99), as the upper edge of its bucket capped at the max seen; 0 when empty. */
  quantile(fraction: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.#count));
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.#counts[bucket] ?? 0;
      if (seen >= rank) return Math.min(FLOOR_MS * GROWTH ** bucket, this.#max);
    }
    return this.#max;
  }
}
