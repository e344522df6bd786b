import { describe, expect, it } from 'vitest';
import { createPool } from '@pool/core';
import { FakeClock, flushPromises, trackingFactory } from '@pool/testkit';

describe('partitions', () => {
  it('reproduces the 145-connection incident: no partition exceeds its cap and each reaches it', async () => {
    const caps = { queue: 30, health: 60, streaming: 55 };
    const pool = createPool({
      factory: trackingFactory(),
      maxPerNode: 145,
      maxTotal: 145,
      partitions: { queue: { max: caps.queue, priority: 10 }, health: { max: caps.health }, streaming: { max: caps.streaming } },
      acquireTimeoutMs: 60_000,
    });
    const peak: Record<string, number> = { queue: 0, health: 0, streaming: 0 };
    const active: Record<string, number> = { queue: 0, health: 0, streaming: 0 };
    let violations = 0;
    const worker = async (partition: keyof typeof caps, rounds: number): Promise<void> => {
      for (let round = 0; round < rounds; round++) {
        const lease = await pool.acquire({ partition });
        active[partition]!++;
        peak[partition] = Math.max(peak[partition]!, active[partition]!);
        const stats = pool.stats().partitions[partition]!;
        if (stats.active > stats.max || active[partition]! > caps[partition]) violations++;
        await flushPromises(1 + (round % 3));
        active[partition]!--;
        await lease.release();
      }
    };
    const workers: Promise<void>[] = [];
    // Health checks flood the pool, as in the incident: three times the callers of the others.
    for (let i = 0; i < 240; i++) workers.push(worker('health', 5));
    for (let i = 0; i < 80; i++) workers.push(worker('queue', 5));
    for (let i = 0; i < 80; i++) workers.push(worker('streaming', 5));
    await Promise.all(workers);
    expect(violations).toBe(0);
    expect(peak).toEqual(caps);
    expect(pool.stats().total).toBeLessThanOrEqual(145);
    await pool.drain();
  });

  it('caps summing to less than the pool leave the rest to unpartitioned acquires', async () => {
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 10, partitions: { batch: { max: 3 } } });
    const batch = await Promise.all([1, 2, 3].map(() => pool.acquire({ partition: 'batch' })));
    const blocked = pool.acquire({ partition: 'batch' });
    const free = await Promise.all(Array.from({ length: 7 }, () => pool.acquire()));
    expect(pool.stats()).toMatchObject({ leases: 10, partitions: { batch: { active: 3, waiting: 1, max: 3 } } });
    await batch[0]!.release();
    await (await blocked).release();
    await Promise.all([...batch.slice(1), ...free].map((lease) => lease.release()));
    await pool.drain();
  });

  it('caps summing to more than the pool share it by priority, and the lower one still gets served', async () => {
    const pool = createPool({
      factory: trackingFactory(),
      maxPerNode: 4,
      partitions: { interactive: { max: 4, priority: 5 }, batch: { max: 4, priority: 0 } },
      priorityAgingMs: 50,
    });
    const served: Record<string, number> = { interactive: 0, batch: 0 };
    const worker = async (partition: 'interactive' | 'batch'): Promise<void> => {
      for (let round = 0; round < 20; round++) {
        const lease = await pool.acquire({ partition });
        served[partition]!++;
        await flushPromises(1);
        await lease.release();
      }
    };
    await Promise.all([...Array.from({ length: 8 }, () => worker('interactive')), ...Array.from({ length: 8 }, () => worker('batch'))]);
    expect(served).toEqual({ interactive: 160, batch: 160 });
    await pool.drain();
  });

  it('a waiter whose partition is full does not hold back a later waiter that can be served', async () => {
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 2, partitions: { a: { max: 1 }, b: { max: 1 } } });
    const heldA = await pool.acquire({ partition: 'a' });
    const blockedA = pool.acquire({ partition: 'a' });
    const servedB = await pool.acquire({ partition: 'b' });
    expect(servedB.connection).not.toBe(heldA.connection);
    await heldA.release();
    const nextA = await blockedA;
    await Promise.all([nextA.release(), servedB.release()]);
    await pool.drain();
  });

  it('partitions apply to multiplexed connections as leases', async () => {
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1, maxLeasesPerConnection: 10, partitions: { stream: { max: 3 } } });
    const leases = await Promise.all([1, 2, 3].map(() => pool.acquire({ partition: 'stream' })));
    const fourth = pool.acquire({ partition: 'stream' });
    const other = await pool.acquire();
    expect(other.connection).toBe(leases[0]!.connection);
    expect(pool.stats()).toMatchObject({ active: 1, leases: 4, partitions: { stream: { active: 3, waiting: 1 } } });
    await leases[0]!.release();
    const served = await fourth;
    await Promise.all([served, other, ...leases.slice(1)].map((lease) => lease.release()));
    await pool.drain();
  });
});

describe('priorities', () => {
  it('serves higher priority first, FIFO within a priority', async () => {
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1 });
    const held = await pool.acquire();
    const order: string[] = [];
    const queue = (name: string, priority: number) =>
      pool.acquire({ priority }).then(async (lease) => {
        order.push(name);
        await lease.release();
      });
    const waiters = [queue('low', 0), queue('mid-1', 5), queue('mid-2', 5), queue('high', 10)];
    await flushPromises();
    await held.release();
    await Promise.all(waiters);
    expect(order).toEqual(['high', 'mid-1', 'mid-2', 'low']);
    await pool.drain();
  });

  it('uses the partition priority by default and lets the call override it', async () => {
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1, partitions: { urgent: { max: 5, priority: 7 } } });
    const held = await pool.acquire();
    const order: string[] = [];
    const plain = pool.acquire({ priority: 5 }).then((lease) => { order.push('plain-5'); return lease.release(); });
    const urgent = pool.acquire({ partition: 'urgent' }).then((lease) => { order.push('urgent-7'); return lease.release(); });
    const demoted = pool.acquire({ partition: 'urgent', priority: 1 }).then((lease) => { order.push('urgent-1'); return lease.release(); });
    await flushPromises();
    await held.release();
    await Promise.all([plain, urgent, demoted]);
    expect(order).toEqual(['urgent-7', 'plain-5', 'urgent-1']);
    await pool.drain();
  });

  it('ages a low-priority waiter so sustained high-priority load delays it by a bounded time', async () => {
    const clock = new FakeClock();
    const agingMs = 1_000;
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1, clock, priorityAgingMs: agingMs, acquireTimeoutMs: 60_000 });
    let lease = await pool.acquire();
    let lowServedAt: number | undefined;
    const start = clock.now();
    const low = pool.acquire({ priority: 0 }).then((served) => { lowServedAt = clock.now(); return served; });
    // Every 100 ms the holder hands over while a fresh priority-3 waiter is always queued.
    let next = pool.acquire({ priority: 3 });
    for (let step = 0; step < 100 && lowServedAt === undefined; step++) {
      await clock.advance(100);
      const following = pool.acquire({ priority: 3 });
      await lease.release();
      await flushPromises();
      if (lowServedAt !== undefined) {
        lease = await low;
        next.then((l) => l.release(), () => undefined);
        next = following;
        break;
      }
      lease = await next;
      next = following;
    }
    expect(lowServedAt).toBeDefined();
    // Bound: (3 - 0 + 1) aging steps of 1 s, plus one hand-over.
    expect(lowServedAt! - start).toBeLessThanOrEqual((3 + 1) * agingMs + 100);
    expect(lowServedAt! - start).toBeGreaterThanOrEqual(3 * agingMs);
    await lease.release();
    const last = await next;
    await last.release();
    await pool.close();
  });
});
