import type { PoolNode, PoolOptions } from '@pool/core';
import { BenchConnection, coreContestant, createCorePool, type CoreOptions, type IdlePoolBuilder } from '../contestants.js';
import { compare, rateOf, ratio, timingFromEnv, type BenchRow, type BenchTable, type Contestant } from '../harness.js';
import { measureIdleBytes } from '../heap.js';
import { baselineCoreContestant } from '../observed-contestants.js';

// BENCH_CORE_ONLY=baseline with BENCH_CORE_BASELINE=/path/to/other/core/dist/index.js: this build
// of core and the other one side by side in the same interleaved rounds, on the core bench's hot
// path cases (uncontended, contended, 1/100/1,000 nodes) and heap per idle connection. For a
// change that must not move the hot path (issue 18: a refactor within 3%).

const THIS = 'this build';
const BASE = 'BENCH_CORE_BASELINE';
const MAX = 8;
const IDLE_CONNECTIONS = 10_000;

const timing = { ...timingFromEnv({ rounds: 7, roundMs: 200, warmupMs: 300 }), sampleEvery: 16 };

type CreatePool = (options: PoolOptions<BenchConnection, PoolNode>) => ReturnType<typeof createCorePool>;

/** Rows of one group, each with its ratio to this build's row (so the baseline reads as base/this). */
async function pair(group: string, callers: number, entry: string, options: CoreOptions, suffix = ''): Promise<BenchRow[]> {
  const rows = await compare(
    [() => coreContestant(`${THIS}${suffix}`, options), () => baselineCoreContestant(`${BASE}${suffix}`, entry, options)],
    { ...timing, callers, group },
  );
  const mine = rateOf(rows[0]);
  for (const row of rows) row.ratio = ratio(rateOf(row), mine);
  return rows;
}

async function nodeCounts(group: string, entry: string): Promise<BenchRow[]> {
  const contestants: (() => Contestant | Promise<Contestant>)[] = [];
  for (const count of [1, 100, 1_000]) {
    const nodes = Array.from({ length: count }, (_, i) => ({ id: `node-${i}` }));
    const label = `, ${count.toLocaleString('en-US')} node${count === 1 ? '' : 's'}`;
    contestants.push(() => coreContestant(`${THIS}${label}`, { nodes, maxPerNode: MAX }));
    contestants.push(() => baselineCoreContestant(`${BASE}${label}`, entry, { nodes, maxPerNode: MAX }));
  }
  const rows = await compare(contestants, { ...timing, callers: 4, group });
  for (let i = 0; i + 1 < rows.length; i += 2) {
    const mine = rateOf(rows[i]);
    rows[i]!.ratio = ratio(1, 1);
    rows[i + 1]!.ratio = ratio(rateOf(rows[i + 1]), mine);
  }
  return rows;
}

function idleBuilder(name: string, create: CreatePool): IdlePoolBuilder {
  return async (count) => {
    const pool = create({
      factory: { create: async () => new BenchConnection(), destroy: () => undefined },
      validateOnAcquire: false,
      maxPerNode: count,
      maxTotal: count,
    });
    const leases = await Promise.all(Array.from({ length: count }, () => pool.acquire()));
    await Promise.all(leases.map((lease) => lease.release()));
    return { name, idle: () => pool.stats().idle, close: () => pool.close() };
  };
}

export async function baselineTable(entry: string): Promise<BenchTable> {
  const base = (await import(entry)) as { createPool: CreatePool };
  const uncontended = `uncontended: 4 callers, max ${MAX}`;
  const contended = `contended: 32 callers, max ${MAX}`;
  const nodes = 'nodes: 4 callers, max 8 per node';
  const rows: BenchRow[] = [
    ...(await pair(uncontended, 4, entry, { maxPerNode: MAX })),
    ...(await pair(contended, 32, entry, { maxPerNode: MAX })),
    ...(await nodeCounts(nodes, entry)),
  ];
  const heapRows = await measureIdleBytes(
    // Twice each, in alternating order: the first builder measured pays for what warms up first.
    [
      idleBuilder(THIS, (options) => createCorePool(options)),
      idleBuilder(BASE, base.createPool),
      idleBuilder(`${BASE}, again`, base.createPool),
      idleBuilder(`${THIS}, again`, (options) => createCorePool(options)),
    ],
    IDLE_CONNECTIONS,
  );
  rows.push(...heapRows);
  const notes = [
    `ratio: ${BASE} / this build, ops/cpu-s; each figure is the median of ${timing.rounds} interleaved ${timing.roundMs} ms windows after ${timing.warmupMs} ms warm-up; ` +
      `the two builds alternate within each round. ${BASE} = ${entry}.`,
  ];
  return { title: 'core: this build next to BENCH_CORE_BASELINE', ratioLabel: 'vs this build', rows, notes };
}
