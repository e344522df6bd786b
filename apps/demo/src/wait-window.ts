/** Acquire waits of the last few seconds, for live p50/p99 (the pool's own histogram covers all time). */
export class WaitWindow {
  readonly #times: number[] = [];
  readonly #waits: number[] = [];

  constructor(private readonly windowMs = 5_000, private readonly maxSamples = 2_000) {}

  add(waitMs: number, now = Date.now()): void {
    this.#times.push(now);
    this.#waits.push(waitMs);
    if (this.#times.length > this.maxSamples) {
      this.#times.splice(0, this.#times.length - this.maxSamples);
      this.#waits.splice(0, this.#waits.length - this.maxSamples);
    }
  }

  /** p50 and p99 of the waits within the window, ms; zeros when there were none. */
  percentiles(now = Date.now()): { p50: number; p99: number; count: number } {
    let first = 0;
    while (first < this.#times.length && (this.#times[first] ?? 0) < now - this.windowMs) first += 1;
    if (first > 0) {
      this.#times.splice(0, first);
      this.#waits.splice(0, first);
    }
    if (this.#waits.length === 0) return { p50: 0, p99: 0, count: 0 };
    const sorted = [...this.#waits].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { p50: round(at(0.5)), p99: round(at(0.99)), count: sorted.length };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
