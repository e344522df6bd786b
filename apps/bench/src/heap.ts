import { BenchConnection, type IdlePoolBuilder } from './contestants.js';
import { collectGarbage, hasGc, type BenchRow } from './harness.js';

function heapUsed(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Heap bytes of one bare connection object (the array holding them is allocated before). */
export function connectionBytes(count: number): number {
  const connections = new Array<BenchConnection | undefined>(count).fill(undefined);
  const before = heapUsed();
  for (let i = 0; i < count; i++) connections[i] = new BenchConnection();
  const after = heapUsed();
  // Keep the array alive past the second reading.
  if (connections.length !== count) throw new Error('unreachable');
  return (after - before) / count;
}

/**
 * Heap bytes a pool spends per idle connection, beyond the connection object itself: heap
 * after a full GC with `count` idle connections, minus the heap before the pool existed, per
 * connection, minus what the bare connection objects weigh on their own. Each builder runs
 * once with a few connections first so code and shapes are warm and not counted.
 */
export async function measureIdleBytes(builders: readonly IdlePoolBuilder[], count: number): Promise<BenchRow[]> {
  if (!hasGc()) throw new Error('heap measurement needs node --expose-gc');
  const ownBytes = connectionBytes(count);
  const rows: BenchRow[] = [];
  for (const build of builders) {
    const warm = await build(16);
    await warm.close();
    const before = heapUsed();
    const pool = await build(count);
    const after = heapUsed();
    const idle = pool.idle();
    await pool.close();
    const perIdle = (after - before) / count - ownBytes;
    const row: BenchRow = {
      group: `heap, ${count.toLocaleString('en-US')} idle`,
      name: pool.name,
      opsPerSec: NaN,
      metrics: { 'B/idle conn': Math.round(perIdle) },
      note: `${idle.toLocaleString('en-US')} idle; connection object ${Math.round(ownBytes)} B subtracted`,
    };
    if (idle !== count) row.note = `EXPECTED ${count} idle, pool reports ${idle}; ${row.note ?? ''}`;
    rows.push(row);
  }
  return rows;
}
