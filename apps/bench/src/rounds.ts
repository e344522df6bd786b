import type { BenchRow } from './harness.js';
import { collectGarbage, median, ratio, runCallers, type LoadResult, type Op } from './load.js';

// Contestants measured side by side in interleaved rounds.

/** A pool under test: `op` is one acquire + release; `close` tears the pool down. */
export interface Contestant {
  name: string;
  op: Op;
  close(): Promise<void> | void;
  /** Called once after the last round; its text becomes the row's note. */
  describe?(): string;
  /**
   * Process-wide state this contestant needs only while it runs (a diagnostics_channel
   * subscriber is seen by every pool of the process): set up before each of its warm-up, settle
   * and measured windows, torn down right after.
   */
  enter?(): void;
  leave?(): void;
}

/** What the round loop runs: a contestant's op, inside its enter/leave when it has them. */
export interface RoundContestant {
  readonly op: Op;
  enter?(): void;
  leave?(): void;
}

/**
 * The run order of round `round` of `count` contestants: rotated by one each round (ABC, BCA, CAB),
 * so over `count` rounds everyone runs in every position once. With `isReversedEveryOtherCycle`,
 * the next `count` rounds run reversed (CBA, ACB, BAC): whoever ran right before a contestant in
 * one cycle runs right after it in the next, so no one always inherits the same neighbour's state.
 */
export function roundOrder(count: number, round: number, isReversedEveryOtherCycle: boolean): number[] {
  const rotated = Array.from({ length: count }, (_, k) => (k + round) % count);
  return isReversedEveryOtherCycle && Math.floor(round / count) % 2 === 1 ? rotated.reverse() : rotated;
}

/** One contestant's measured windows, one entry per round, in round order. */
export interface RoundSeries {
  opsPerSec: number[];
  opsPerCpuSec: number[];
  /** Process CPU time per op, µs. */
  cpuUsPerOp: number[];
  /** Latency of the window's sampled ops, ms; empty when `measure` samples none. */
  p50: number[];
  p99: number[];
}

export interface PairedRoundsOptions {
  rounds: number;
  /** Alternate rotated and reversed cycles of rounds (see {@link roundOrder}). Default true. */
  isReversedEveryOtherCycle?: boolean;
  /** A full GC (with --expose-gc) before each warm-up and before each window's settle. Default true. */
  collectsGarbage?: boolean;
  /** Unmeasured load, once per contestant in list order, before the first round. */
  warmup?(op: Op): Promise<unknown>;
  /** Unmeasured load right before each window, after the GC. */
  settle?(op: Op): Promise<unknown>;
  /** One measured window; `index` is the contestant's place in the list. */
  measure(op: Op, index: number): Promise<LoadResult>;
}

/**
 * The round loop shared by the scenarios: every round, each contestant in {@link roundOrder} gets
 * a GC, its settle load and one measured window. Rounds run back to back, so entry `r` of one
 * contestant's series and entry `r` of another's were measured under nearly the same machine
 * load: compare them with {@link pairedRatio}.
 */
export async function pairedRounds(contestants: ReadonlyArray<RoundContestant>, options: PairedRoundsOptions): Promise<RoundSeries[]> {
  const collectsGarbage = options.collectsGarbage ?? true;
  const series = contestants.map((): RoundSeries => ({ opsPerSec: [], opsPerCpuSec: [], cpuUsPerOp: [], p50: [], p99: [] }));
  if (options.warmup !== undefined) {
    for (const contestant of contestants) {
      if (collectsGarbage) collectGarbage();
      contestant.enter?.();
      try {
        await options.warmup(contestant.op);
      } finally {
        contestant.leave?.();
      }
    }
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const index of roundOrder(contestants.length, round, options.isReversedEveryOtherCycle ?? true)) {
      const contestant = contestants[index] as RoundContestant;
      const { op } = contestant;
      const result = series[index] as RoundSeries;
      if (collectsGarbage) collectGarbage();
      contestant.enter?.();
      let run: LoadResult;
      try {
        await options.settle?.(op);
        run = await options.measure(op, index);
      } finally {
        contestant.leave?.();
      }
      result.opsPerSec.push(run.opsPerSec);
      result.opsPerCpuSec.push(run.opsPerCpuSec);
      result.cpuUsPerOp.push((run.cpuMs * 1000) / run.ops);
      if (run.latency !== undefined) {
        result.p50.push(run.latency.p50);
        result.p99.push(run.latency.p99);
      }
    }
  }
  return series;
}

/**
 * The median over rounds of `values[r] / baseline[r]`, formatted by {@link ratio}. Each round is
 * divided by the baseline's window of the same round, which cancels most of the machine's drift;
 * read it rather than the ratio of two medians.
 */
export function pairedRatio(values: readonly number[], baseline: readonly number[]): string {
  return ratio(median(values.map((value, round) => value / (baseline[round] as number))), 1);
}

/** A row of the median window: ops/s, and p50/p99 when the windows were sampled. */
export function medianRow(name: string, series: Pick<RoundSeries, 'opsPerSec' | 'p50' | 'p99'>): BenchRow {
  const row: BenchRow = { name, opsPerSec: median(series.opsPerSec) };
  if (series.p50.length > 0) {
    row.p50Ms = median(series.p50);
    row.p99Ms = median(series.p99);
  }
  return row;
}

export interface CompareOptions {
  callers: number;
  /** Measured windows per contestant; the row reports the median. Default 3. */
  rounds?: number;
  roundMs?: number;
  warmupMs?: number;
  sampleEvery?: number;
  group?: string;
  /**
   * Unmeasured load after each forced GC, before the window: right after gc() the process
   * page-faults its heap back in for a while, and that would be measured, not the pool.
   * Default 100 ms.
   */
  settleMs?: number;
}

/**
 * Measures several contestants under the same load. Rounds are interleaved, the order rotating
 * every round (A B C, B C A, C A B, ...), so neither a burst of load from a neighbour process nor
 * a fixed position favours anyone; each row reports the median round. A full GC runs before each
 * window when node runs with --expose-gc, followed by `settleMs` of unmeasured load.
 */
export async function compare(
  makeContestants: ReadonlyArray<() => Promise<Contestant> | Contestant>,
  options: CompareOptions,
): Promise<BenchRow[]> {
  const { callers } = options;
  const contestants: Contestant[] = [];
  for (const make of makeContestants) contestants.push(await make());
  const series = await pairedRounds(contestants, {
    rounds: options.rounds ?? 3,
    isReversedEveryOtherCycle: false,
    warmup: (op) => runCallers(op, { callers, durationMs: options.warmupMs ?? 200 }),
    measure: (op) =>
      runCallers(op, { callers, durationMs: options.roundMs ?? 400, warmupMs: options.settleMs ?? 100, sampleEvery: options.sampleEvery ?? 0 }),
  }).finally(async () => {
    for (const contestant of contestants) await contestant.close();
  });
  return contestants.map((contestant, i) => {
    const result = series[i] as RoundSeries;
    const row: BenchRow = { ...medianRow(contestant.name, result), opsPerCpuSec: median(result.opsPerCpuSec) };
    if (options.group !== undefined) row.group = options.group;
    const note = contestant.describe?.();
    if (note !== undefined && note !== '') row.note = note;
    return row;
  });
}
