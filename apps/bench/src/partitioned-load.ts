import { performance } from 'node:perf_hooks';
import { createCorePool } from './contestants.js';
import { percentiles, runCallers, type BenchRow } from './harness.js';

export interface PartitionSpec {
  max: number;
  priority?: number;
  /** Concurrent callers acquiring in this partition. */
  callers: number;
}

export interface PartitionedLoadOptions {
  maxTotal: number;
  partitions: Record<string, PartitionSpec>;
  durationMs: number;
  warmupMs: number;
}

/** The scheduling issue's mix: three operation types sharing 16 connections, caps summing past it. */
export const defaultPartitionedLoad: PartitionedLoadOptions = {
  maxTotal: 16,
  partitions: {
    queue: { max: 6, priority: 10, callers: 12 },
    health: { max: 6, callers: 12 },
    stream: { max: 8, callers: 12 },
  },
  durationMs: 2_000,
  warmupMs: 300,
};

interface PartitionState {
  name: string;
  spec: PartitionSpec;
  waitsMs: number[];
  ops: number;
  active: number;
  peakActive: number;
}

const oneTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * All partitions' callers hammer one pool at once. Each op: acquire in its partition (the wait
 * is measured here, per partition), hold the lease for one event-loop turn, release. The peak
 * number of leases a partition held at once is tracked by the callers themselves, so a cap
 * violation would show up in the table.
 */
export async function partitionedLoad(options: PartitionedLoadOptions = defaultPartitionedLoad): Promise<BenchRow[]> {
  const partitions: Record<string, { max: number; priority?: number }> = {};
  const states: PartitionState[] = [];
  const callerPartition: PartitionState[] = [];
  for (const [name, spec] of Object.entries(options.partitions)) {
    partitions[name] = spec.priority === undefined ? { max: spec.max } : { max: spec.max, priority: spec.priority };
    const state: PartitionState = { name, spec, waitsMs: [], ops: 0, active: 0, peakActive: 0 };
    states.push(state);
    for (let i = 0; i < spec.callers; i++) callerPartition.push(state);
  }
  const pool = createCorePool({ maxPerNode: options.maxTotal, maxTotal: options.maxTotal, partitions });
  let isMeasuring = false;
  const op = async (caller: number): Promise<void> => {
    const state = callerPartition[caller] as PartitionState;
    const started = performance.now();
    const lease = await pool.acquire({ partition: state.name });
    const waitedMs = performance.now() - started;
    state.active++;
    if (state.active > state.peakActive) state.peakActive = state.active;
    if (isMeasuring) {
      state.waitsMs.push(waitedMs);
      state.ops++;
    }
    await oneTurn();
    state.active--;
    await lease.release();
  };

  let elapsedMs: number;
  let stats: ReturnType<typeof pool.stats>;
  try {
    await runCallers(op, { callers: callerPartition.length, durationMs: options.warmupMs });
    isMeasuring = true;
    const started = performance.now();
    await runCallers(op, { callers: callerPartition.length, durationMs: options.durationMs });
    elapsedMs = performance.now() - started;
    stats = pool.stats();
  } finally {
    await pool.close();
  }

  const group = `partitioned load, maxTotal ${options.maxTotal}`;
  const rows: BenchRow[] = states.map((state) => {
    const waits = percentiles(state.waitsMs);
    const label = state.spec.priority === undefined ? `max ${state.spec.max}` : `max ${state.spec.max}, priority ${state.spec.priority}`;
    const reported = stats.partitions[state.name];
    const isWithinCap = state.peakActive <= state.spec.max;
    return {
      group,
      name: `${state.name} (${label})`,
      opsPerSec: (state.ops / elapsedMs) * 1000,
      p50Ms: waits.p50,
      p99Ms: waits.p99,
      metrics: { 'peak/cap': `${state.peakActive}/${state.spec.max}`, 'max wait ms': Number(waits.max.toFixed(2)) },
      note: `${state.spec.callers} callers, acquire wait measured by the callers${isWithinCap ? '' : ', CAP EXCEEDED'}${reported === undefined ? ', MISSING from stats().partitions' : ''}`,
    };
  });
  rows.push({
    group,
    name: 'all partitions, pool.stats().waitMs',
    opsPerSec: NaN,
    p50Ms: stats.waitMs.p50,
    p99Ms: stats.waitMs.p99,
    note: `since pool start, warm-up included; ${stats.waitMs.count.toLocaleString('en-US')} acquires, max ${stats.waitMs.max} ms`,
  });
  return rows;
}
