/**
 * Upper bounds (ms, inclusive) of the buckets every latency histogram also counts in, for
 * exporters: OpenTelemetry's advice for connection-pool durations ([0.001 ... 10] s), in ms.
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = Object.freeze([1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000]);

/** Summary of a latency histogram, in milliseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Sum of every sample, ms: with `count` and `buckets`, what an exporter's histogram needs. */
  sum: number;
  /**
   * Samples per bucket, not cumulative: `counts[i]` counts samples in
   * (`boundaries[i-1]`, `boundaries[i]`] ms, the last entry those above the last bound
   * (`counts.length === boundaries.length + 1`, OpenTelemetry's explicit-bucket shape).
   * `boundaries` is {@link LATENCY_BUCKET_BOUNDS_MS}. Exact, not interpolated.
   */
  buckets: { boundaries: readonly number[]; counts: number[] };
}

// Log-linear buckets: 8 sub-buckets per power of two gives <= 12.5% relative error,
// over 0..2^32 ms in 34*8 counters: fixed memory whatever the sample count.
const SUB_BUCKET_BITS = 3;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
const MAGNITUDES = 34;
/** Values are recorded in 1/16 ms so sub-millisecond waits still get distinct buckets. */
const UNITS_PER_MS = 16;

const EXPORT_BOUNDS = LATENCY_BUCKET_BOUNDS_MS;
const EXPORT_BUCKETS = EXPORT_BOUNDS.length + 1;

function bucketOf(units: number): number {
  if (units < SUB_BUCKETS) return units;
  const magnitude = 31 - Math.clz32(units) - SUB_BUCKET_BITS + 1;
  const index = magnitude * SUB_BUCKETS + ((units >>> (magnitude - 1)) & (SUB_BUCKETS - 1));
  return Math.min(index, MAGNITUDES * SUB_BUCKETS - 1);
}

function upperBoundOf(bucket: number): number {
  if (bucket < SUB_BUCKETS) return bucket + 1;
  const magnitude = Math.floor(bucket / SUB_BUCKETS);
  const sub = bucket % SUB_BUCKETS;
  return (SUB_BUCKETS + sub + 1) * 2 ** (magnitude - 1);
}

/** A bounded-memory histogram of durations in milliseconds. */
export class Histogram {
  private readonly counts = new Uint32Array(MAGNITUDES * SUB_BUCKETS);
  /** Counts by {@link LATENCY_BUCKET_BOUNDS_MS}, for exporters; plain numbers so they never wrap. */
  private readonly exportCounts: number[] = new Array<number>(EXPORT_BUCKETS).fill(0);
  private count = 0;
  private sum = 0;
  private max = 0;

  record(ms: number): void {
    if (!(ms > 0)) {
      // No wait at all: the common case of an uncontended acquire.
      this.counts[0]!++;
      this.exportCounts[0]!++;
      this.count++;
      return;
    }
    const value = ms;
    const units = Math.min(Math.round(value * UNITS_PER_MS), 0xffffffff) >>> 0;
    this.counts[bucketOf(units)]!++;
    let exportBucket = 0;
    while (exportBucket < EXPORT_BOUNDS.length && value > EXPORT_BOUNDS[exportBucket]!) exportBucket++;
    this.exportCounts[exportBucket]!++;
    this.count++;
    this.sum += value;
    if (value > this.max) this.max = value;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      mean: this.count === 0 ? 0 : this.sum / this.count,
      p50: this.percentile(0.5),
      p95: this.percentile(0.95),
      p99: this.percentile(0.99),
      max: this.max,
      sum: this.sum,
      buckets: { boundaries: LATENCY_BUCKET_BOUNDS_MS, counts: this.exportCounts.slice() },
    };
  }

  private percentile(fraction: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(fraction * this.count);
    let seen = 0;
    for (let bucket = 0; bucket < this.counts.length; bucket++) {
      seen += this.counts[bucket]!;
      if (seen >= rank) return bucket === 0 ? 0 : Math.min(upperBoundOf(bucket) / UNITS_PER_MS, this.max);
    }
    return this.max;
  }
}
