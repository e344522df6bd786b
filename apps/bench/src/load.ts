import { performance } from 'node:perf_hooks';

// Numbers and load: percentiles, ratios and the concurrent-caller loop every scenario measures with.

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
  /** Also append every sampled latency (ms) here, e.g. for percentiles over several windows. */
  samples?: number[];
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
  if (options.samples !== undefined) for (const sample of samples) options.samples.push(sample);
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
