import { performance } from 'node:perf_hooks';

/**
 * One line of a benchmark table. `opsPerSec` is the headline number; rows that measure
 * something else (bytes, a wait distribution) set it to `NaN` and it prints as "-".
 */
export interface BenchRow {
  /** Optional section the row belongs to (e.g. "contended, 32 callers, max 8"). */
  group?: string;
  name: string;
  opsPerSec: number;
  /** Ops per CPU-second of the whole process; set by {@link compare}. */
  opsPerCpuSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Already formatted, e.g. "0.62x" (see {@link ratio}). */
  ratio?: string;
  /** Extra named columns, e.g. `{ 'B/idle conn': 412 }`; printed in order of first appearance. */
  metrics?: Record<string, string | number>;
  note?: string;
}

export interface BenchTable {
  title: string;
  /** Header of the `ratio` column; default "ratio". Say what it is relative to, e.g. "vs bare". */
  ratioLabel?: string;
  /** Order of the `metrics` columns; keys not listed follow in order of first appearance. */
  columns?: readonly string[];
  rows: BenchRow[];
  /** Free-text lines printed under the table (settings, fairness notes, verdicts). */
  notes?: string[];
}

// ---------------------------------------------------------------------------------------------
// Numbers

export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of `samples` (milliseconds); the input is not modified. */
export function percentiles(samples: ArrayLike<number>): Percentiles {
  const count = samples.length;
  if (count === 0) return { count: 0, mean: NaN, p50: NaN, p99: NaN, max: NaN };
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < count; i++) sum += sorted[i] as number;
  return {
    count,
    mean: sum / count,
    p50: rank(sorted, 0.5),
    p99: rank(sorted, 0.99),
    max: sorted[count - 1] as number,
  };
}

function rank(sorted: Float64Array, quantile: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(quantile * sorted.length) - 1));
  return sorted[index] as number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** `value / baseline` formatted as "1.84x"; "-" when either is not a positive number. */
export function ratio(value: number, baseline: number): string {
  if (!(value > 0) || !(baseline > 0)) return '-';
  const r = value / baseline;
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;
}

/** The rate ratios are computed from: ops per CPU-second when measured, else ops per second. */
export function rateOf(row: BenchRow | undefined): number {
  if (row === undefined) return NaN;
  return row.opsPerCpuSec !== undefined && Number.isFinite(row.opsPerCpuSec) ? row.opsPerCpuSec : row.opsPerSec;
}

/** Sets each row's `ratio` to its rate ({@link rateOf}) relative to the row named `baselineName` in the same group. */
export function withRatios(rows: BenchRow[], baselineName: string): BenchRow[] {
  for (const row of rows) {
    const baseline = rows.find((r) => r.name === baselineName && r.group === row.group);
    if (baseline !== undefined) row.ratio = ratio(rateOf(row), rateOf(baseline));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Load

export interface LoadOptions {
  /** Concurrent async callers, each running `op` in a loop. */
  callers: number;
  /** Stop after this many ops in total (across callers). One of `ops` / `durationMs` is needed. */
  ops?: number;
  /** Stop after this window, checked every 32 ops per caller so the check costs nothing. */
  durationMs?: number;
  /** Run the same load this long first, unmeasured (JIT, pool warm-up). Default 0. */
  warmupMs?: number;
  /** Time every n-th op per caller for p50/p99 (0 = no latency). Default 0. */
  sampleEvery?: number;
}

export interface LoadResult {
  ops: number;
  elapsedMs: number;
  opsPerSec: number;
  /** CPU time (user + system, all threads) the process spent in the window, ms. */
  cpuMs: number;
  /** Ops per CPU-second: steadier than opsPerSec when other processes share the cores. */
  opsPerCpuSec: number;
  /** Latency of the sampled ops, ms; undefined when `sampleEvery` is 0. */
  latency: Percentiles | undefined;
}

export type Op = (caller: number) => Promise<unknown> | unknown;

/**
 * Runs `callers` concurrent loops of `op` until `ops` ops are done or `durationMs` elapsed.
 * Ops that resolve in microtasks never yield to timers, so the window is checked by reading
 * the clock, not by a setTimeout.
 */
export async function runCallers(op: Op, options: LoadOptions): Promise<LoadResult> {
  const { callers } = options;
  if (!Number.isInteger(callers) || callers < 1) throw new RangeError(`callers must be an integer >= 1, got ${callers}`);
  if (options.ops === undefined && options.durationMs === undefined) {
    throw new RangeError('runCallers needs ops or durationMs');
  }
  if ((options.warmupMs ?? 0) > 0) {
    await runWindow(op, callers, Infinity, options.warmupMs ?? 0, 0, []);
  }
  const samples: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const ops = await runWindow(op, callers, options.ops ?? Infinity, options.durationMs ?? Infinity, options.sampleEvery ?? 0, samples);
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    ops,
    elapsedMs,
    opsPerSec: (ops / elapsedMs) * 1000,
    cpuMs,
    opsPerCpuSec: cpuMs > 0 ? (ops / cpuMs) * 1000 : NaN,
    latency: (options.sampleEvery ?? 0) > 0 ? percentiles(samples) : undefined,
  };
}

async function runWindow(
  op: Op,
  callers: number,
  maxOps: number,
  durationMs: number,
  sampleEvery: number,
  samples: number[],
): Promise<number> {
  const deadline = performance.now() + durationMs;
  let remaining = maxOps;
  let done = 0;
  let stop = false;
  const loop = async (caller: number): Promise<void> => {
    let n = 0;
    while (!stop && remaining > 0) {
      remaining--;
      n++;
      if (sampleEvery > 0 && n % sampleEvery === 0) {
        const t0 = performance.now();
        await op(caller);
        samples.push(performance.now() - t0);
      } else {
        await op(caller);
      }
      done++;
      if ((n & 31) === 0 && durationMs !== Infinity && performance.now() >= deadline) stop = true;
    }
  };
  const loops: Promise<void>[] = [];
  for (let caller = 0; caller < callers; caller++) loops.push(loop(caller));
  await Promise.all(loops);
  return done;
}

/** A pool under test: `op` is one acquire + release; `close` tears the pool down. */
export interface Contestant {
  name: string;
  op: Op;
  close(): Promise<void> | void;
  /** Called once after the last round; its text becomes the row's note. */
  describe?(): string;
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
  const rounds = options.rounds ?? 3;
  const roundMs = options.roundMs ?? 400;
  const contestants: Contestant[] = [];
  for (const make of makeContestants) contestants.push(await make());
  const results = contestants.map(() => ({ opsPerSec: [] as number[], opsPerCpuSec: [] as number[], p50: [] as number[], p99: [] as number[] }));
  try {
    for (const contestant of contestants) {
      collectGarbage();
      await runCallers(contestant.op, { callers: options.callers, durationMs: options.warmupMs ?? 200 });
    }
    for (let round = 0; round < rounds; round++) {
      for (let step = 0; step < contestants.length; step++) {
        const i = (round + step) % contestants.length;
        const contestant = contestants[i] as Contestant;
        const result = results[i] as (typeof results)[number];
        collectGarbage();
        const run = await runCallers(contestant.op, {
          callers: options.callers,
          durationMs: roundMs,
          warmupMs: options.settleMs ?? 100,
          sampleEvery: options.sampleEvery ?? 0,
        });
        result.opsPerSec.push(run.opsPerSec);
        result.opsPerCpuSec.push(run.opsPerCpuSec);
        if (run.latency !== undefined) {
          result.p50.push(run.latency.p50);
          result.p99.push(run.latency.p99);
        }
      }
    }
  } finally {
    for (const contestant of contestants) await contestant.close();
  }
  return contestants.map((contestant, i) => {
    const result = results[i] as (typeof results)[number];
    const row: BenchRow = { name: contestant.name, opsPerSec: median(result.opsPerSec), opsPerCpuSec: median(result.opsPerCpuSec) };
    if (options.group !== undefined) row.group = options.group;
    if (result.p50.length > 0) {
      row.p50Ms = median(result.p50);
      row.p99Ms = median(result.p99);
    }
    const note = contestant.describe?.();
    if (note !== undefined && note !== '') row.note = note;
    return row;
  });
}

/** Full GC when node runs with --expose-gc; a no-op otherwise. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
}

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

export { formatMs, formatOps, formatTable } from './table.js';
