import { describe, expect, it } from 'vitest';
import { createPool } from '@pool/core';
import { trackingFactory } from '@pool/testkit';

describe('multiplexed connections', () => {
  it('fills a connection up to maxLeasesPerConnection, then opens another, then prefers the least loaded', async () => {
    const factory = trackingFactory();
    const pool = createPool({ factory, maxLeasesPerConnection: 3, maxPerNode: 2 });
    const first = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(new Set(first.map((lease) => lease.connection.id))).toEqual(new Set([1]));
    const fourth = await pool.acquire();
    expect(fourth.connection.id).toBe(2);
    await first[0]!.release();
    const fifth = await pool.acquire();
    expect(fifth.connection.id).toBe(2); // 1 lease there against 2 on the first
    expect(pool.stats()).toMatchObject({ total: 2, active: 2, leases: 4, idle: 0 });
    await Promise.all([...first.slice(1), fourth, fifth].map((lease) => lease.release()));
    expect(pool.stats()).toMatchObject({ idle: 2, leases: 0 });
    await pool.drain();
  });

  it('waits when every connection is full and maxPerNode is reached', async () => {
    const pool = createPool({ factory: trackingFactory(), maxLeasesPerConnection: 2, maxPerNode: 1 });
    const leases = await Promise.all([pool.acquire(), pool.acquire()]);
    let isServed = false;
    const third = pool.acquire().then((lease) => { isServed = true; return lease; });
    await new Promise((resolve) => setImmediate(resolve));
    expect(isServed).toBe(false);
    await leases[0]!.release();
    expect((await third).connection).toBe(leases[0]!.connection);
    await Promise.all([leases[1]!.release(), (await third).release()]);
    await pool.drain();
  });

  it('honours a per-connection cap learned by the factory (factory.maxLeases)', async () => {
    const factory = trackingFactory();
    factory.maxLeases = (connection) => (connection.id === 1 ? 2 : 100);
    const pool = createPool({ factory, maxLeasesPerConnection: 5 });
    const leases = await Promise.all(Array.from({ length: 7 }, () => pool.acquire()));
    const perConnection = new Map<number, number>();
    for (const lease of leases) perConnection.set(lease.connection.id, (perConnection.get(lease.connection.id) ?? 0) + 1);
    expect(perConnection.get(1)).toBe(2);
    expect(perConnection.get(2)).toBe(5); // clamped to maxLeasesPerConnection
    await Promise.all(leases.map((lease) => lease.release()));
    await pool.drain();
  });

  it('a retired multiplexed connection takes no new lease and closes when its last lease ends', async () => {
    const factory = trackingFactory();
    const pool = createPool({ factory, maxLeasesPerConnection: 10 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(b.connection).toBe(a.connection);
    a.connection.invalidate(new Error('GOAWAY'));
    const c = await pool.acquire();
    expect(c.connection).not.toBe(a.connection);
    await a.release();
    expect(factory.destroyed).toHaveLength(0);
    await b.release();
    expect(factory.destroyed.map((connection) => connection.id)).toEqual([1]);
    await c.release();
    await pool.drain();
  });

  it('lets one create serve as many waiters as a connection carries leases', async () => {
    const factory = trackingFactory({ createDelayMs: 20 });
    const pool = createPool({ factory, maxLeasesPerConnection: 5, maxPerNode: 4 });
    const leases = await Promise.all(Array.from({ length: 7 }, () => pool.acquire()));
    expect(factory.createCalls).toBe(2);
    expect(new Set(leases.map((lease) => lease.connection.id)).size).toBe(2);
    await Promise.all(leases.map((lease) => lease.release()));
    await pool.drain();
  });

  it('follows a lease cap that drops while leases are out (SSH MaxSessions, HTTP/2 SETTINGS)', async () => {
    const factory = trackingFactory();
    let cap = 5;
    factory.maxLeases = () => cap;
    const pool = createPool({ factory, maxLeasesPerConnection: 5, maxPerNode: 2 });
    const leases = await Promise.all(Array.from({ length: 4 }, () => pool.acquire()));
    expect(new Set(leases.map((lease) => lease.connection.id))).toEqual(new Set([1]));
    cap = 2;
    await leases[0]!.release();
    const next = await pool.acquire();
    expect(next.connection.id).toBe(2); // connection 1 still carries 3 leases, above its new cap of 2
    await Promise.all([...leases.slice(1), next].map((lease) => lease.release()));
    await pool.drain();
  });
});
