import { ratio } from './load.js';

// What a scenario builds (rows, tables) and reads (settings). The load and rounds helpers are
// re-exported here, so a scenario imports everything from this one module.

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
// Ratios

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
// Settings

/** The positive number in environment variable `name`, else `fallback`. */
export function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export interface Timing {
  rounds: number;
  roundMs: number;
  warmupMs: number;
}

/** `defaults`, each overridden by BENCH_ROUNDS, BENCH_ROUND_MS and BENCH_WARMUP_MS when set. */
export function timingFromEnv(defaults: Timing): Timing {
  return {
    rounds: envNumber('BENCH_ROUNDS', defaults.rounds),
    roundMs: envNumber('BENCH_ROUND_MS', defaults.roundMs),
    warmupMs: envNumber('BENCH_WARMUP_MS', defaults.warmupMs),
  };
}

export { collectGarbage, hasGc, median, percentiles, ratio, runCallers, type LoadOptions, type LoadResult, type Op, type Percentiles } from './load.js';
export {
  compare,
  medianRow,
  pairedRatio,
  pairedRounds,
  roundOrder,
  type CompareOptions,
  type Contestant,
  type PairedRoundsOptions,
  type RoundSeries,
} from './rounds.js';
export { formatMs, formatOps, formatTable } from './table.js';
