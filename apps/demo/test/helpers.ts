import type { Demo } from '../src/demo.js';
import type { NodeSnapshot, PoolSnapshot, Snapshot } from '../src/snapshot.js';

/** Polls `check` every 100 ms until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function poolOf(snapshot: Snapshot, name: string): PoolSnapshot {
  const pool = snapshot.pools.find((candidate) => candidate.name === name);
  if (!pool) throw new Error(`no pool ${name} in the snapshot`);
  return pool;
}

export function nodeOf(snapshot: Snapshot, pool: string, id: string): NodeSnapshot {
  const node = poolOf(snapshot, pool).nodes.find((candidate) => candidate.id === id);
  if (!node) throw new Error(`no node ${pool}/${id} in the snapshot`);
  return node;
}

/** Waits until every pool has connected and every operation kind has succeeded at least once. */
export async function waitUntilWarm(demo: Demo): Promise<void> {
  await waitFor('every operation to succeed once', () => {
    const operations = demo.workload.stats();
    return Object.values(operations).every((op) => op.ok > 0);
  }, 20_000);
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
