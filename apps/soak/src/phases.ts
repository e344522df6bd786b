import { LatencyHistogram } from './histogram.js';

/*
 * What one transport's soak records, phase by phase, and the pure accounting over it: the checks
 * in checks.ts read only these shapes, so they are unit-tested without a pool.
 */

/** 1 = steady load, 2 = faults, 3 = steady load again. */
export type Phase = 1 | 2 | 3;
export const PHASES: readonly Phase[] = [1, 2, 3];

/** What happened to the operations started in one phase. */
export class PhaseRecord {
  ops = 0;
  ok = 0;
  /** Operations that never settled within the per-op deadline. */
  hung = 0;
  /** Failed operations by error label (see errors.ts). */
  readonly failures = new Map<string, number>();
  /** The first error of each label, as text (message and stack), for the report of a FAIL. */
  readonly firstErrors = new Map<string, string>();
  /** Latency of every settled operation, ok or failed. */
  readonly latency = new LatencyHistogram();

  get failed(): number {
    let failed = 0;
    for (const count of this.failures.values()) failed += count;
    return failed;
  }

  fail(label: string, describe: () => string): void {
    const count = this.failures.get(label) ?? 0;
    this.failures.set(label, count + 1);
    if (count === 0) this.firstErrors.set(label, describe());
  }
}

/** One reading of `pool.stats()`, every 250 ms and at each phase boundary. */
export interface StatsSample {
  /** ms since the soak's load started. */
  atMs: number;
  phase: Phase;
  total: number;
  created: number;
  destroyed: number;
}

/** created/destroyed counters at a phase boundary. */
export interface Counters {
  created: number;
  destroyed: number;
}

/**
 * Connections created and destroyed during each phase, from the counters read at the four
 * boundaries (load start, end of phase 1, end of phase 2, end of phase 3).
 */
export function perPhaseCounters(boundaries: readonly Counters[]): Counters[] {
  if (boundaries.length !== PHASES.length + 1) {
    throw new Error(`expected ${PHASES.length + 1} boundary readings, got ${boundaries.length}`);
  }
  return PHASES.map((_, index) => {
    const from = boundaries[index] as Counters;
    const to = boundaries[index + 1] as Counters;
    return { created: to.created - from.created, destroyed: to.destroyed - from.destroyed };
  });
}

export interface Creep {
  /** created when the settle window of the phase closed. */
  baseline: number;
  /** created at the end of the phase. */
  final: number;
  /** Connections created after the settle window: must be 0 in a steady phase. */
  growth: number;
}

/**
 * Connection creep in `phase`: how many connections were created after its first `settleMs`.
 * `samples` are in time order and include the phase's closing boundary reading. The baseline is
 * the last reading taken no later than `settleMs` into the phase (or the phase's first reading),
 * so a create during the settle window is allowed and any later one counts.
 */
export function connectionCreep(samples: readonly StatsSample[], phase: Phase, settleMs: number): Creep {
  const inPhase = samples.filter((sample) => sample.phase === phase);
  const first = inPhase[0];
  const last = inPhase[inPhase.length - 1];
  if (first === undefined || last === undefined) throw new Error(`no stats sample in phase ${phase}`);
  const settledAt = first.atMs + settleMs;
  let baseline = first.created;
  for (const sample of inPhase) {
    if (sample.atMs > settledAt) break;
    baseline = sample.created;
  }
  return { baseline, final: last.created, growth: last.created - baseline };
}

/** The largest `total` seen in `phase`. */
export function maxTotal(samples: readonly StatsSample[], phase: Phase): number {
  let max = 0;
  for (const sample of samples) if (sample.phase === phase && sample.total > max) max = sample.total;
  return max;
}

/**
 * The most connections steady load needs: each caller holds one lease, a connection carries
 * `leasesPerConnection`, and over several nodes the balancer's split can leave each node but one
 * with a partly used connection (`nodes - 1` more), never above the pool's limit.
 */
export function connectionsNeeded(load: { concurrency: number; leasesPerConnection: number; nodes: number; limit: number }): number {
  return Math.min(load.limit, Math.ceil(load.concurrency / load.leasesPerConnection) + load.nodes - 1);
}

/** Samples whose `total` is above `limit` (maxPerNode x nodes). */
export function overLimit(samples: readonly StatsSample[], limit: number): StatsSample[] {
  return samples.filter((sample) => sample.total > limit);
}

/** Failure labels of `record` that are not in `expected`, with their counts. */
export function unexpectedFailures(record: PhaseRecord, expected: readonly string[]): Map<string, number> {
  const unexpected = new Map<string, number>();
  for (const [label, count] of record.failures) if (!expected.includes(label)) unexpected.set(label, count);
  return unexpected;
}

/** `label x3, other x1`, most frequent first; `-` when empty. */
export function formatCounts(counts: ReadonlyMap<string, number>): string {
  if (counts.size === 0) return '-';
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([label, count]) => `${label} x${count}`).join(', ');
}
