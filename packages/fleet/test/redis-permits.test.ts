import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createPool, isPoolError, type PoolError } from '@pool/core';
import { trackingFactory } from '@pool/testkit';
import { startRedisServer, type RedisServer } from '@pool/testkit/redis';
import { redisPermits } from '@pool/fleet';

let server: RedisServer;
let redis: Redis;
let keyCounter = 0;
const nextKey = () => `test${++keyCounter}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

function replica(key: string, max: number, extra: { leaseMs?: number; holdMs?: number; maxPerNode?: number } = {}) {
  const factory = trackingFactory();
  const permits = redisPermits({ redis, key, max, ...(extra.leaseMs ? { leaseMs: extra.leaseMs } : {}), ...(extra.holdMs !== undefined ? { holdMs: extra.holdMs } : {}) });
  const pool = createPool({ factory, permits, maxPerNode: extra.maxPerNode ?? 5, acquireTimeoutMs: 5_000, validateOnAcquire: false });
  return { factory, permits, pool };
}

describe('redisPermits against a real redis-server', () => {
  it('max bounds the connections to a node across replicas', async () => {
    const key = nextKey();
    const a = replica(key, 3);
    const b = replica(key, 3);
    let peak = 0;
    const work = async (pool: typeof a.pool) => {
      for (let i = 0; i < 10; i++) {
        await pool.use(async () => {
          peak = Math.max(peak, a.factory.live.size + b.factory.live.size);
          await sleep(5);
        });
      }
    };
    await Promise.all([...Array.from({ length: 5 }, () => work(a.pool)), ...Array.from({ length: 5 }, () => work(b.pool))]);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(0);
    expect(await redis.zcard(`semaphore:${key}:default`)).toBeLessThanOrEqual(3);
    expect(a.pool.stats().permits!.held + b.pool.stats().permits!.held).toBe(a.factory.live.size + b.factory.live.size);
    await a.pool.close();
    await b.pool.close();
    expect(await redis.zcard(`semaphore:${key}:default`)).toBe(0);
    a.permits.close();
    b.permits.close();
  });

  it('a wait for a permit ends at the acquire deadline and leaves nothing behind', async () => {
    const key = nextKey();
    const a = replica(key, 1);
    const held = await a.pool.acquire();
    const started = Date.now();
    const error = await a.pool.acquire({ timeoutMs: 300 }).catch((caught: unknown) => caught);
    expect(isPoolError(error) && error.code).toBe('ACQUIRE_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_000);
    await sleep(100);
    expect(a.pool.stats().permits).toEqual({ held: 1, waiting: 0 });
    const controller = new AbortController();
    const aborted = a.pool.acquire({ signal: controller.signal }).catch((caught: unknown) => caught);
    setTimeout(() => controller.abort(), 50);
    expect(((await aborted) as PoolError).code).toBe('ABORTED');
    await held.release();
    await a.pool.close();
    a.permits.close();
    expect(await redis.zcard(`semaphore:${key}:default`)).toBe(0);
  });

  it('a permit Redis no longer holds is lost: the pool retires its connection', async () => {
    const key = nextKey();
    const a = replica(key, 2, { leaseMs: 400 });
    const lease = await a.pool.acquire();
    const first = lease.connection;
    await redis.del(`semaphore:${key}:default`); // as if the lease expired and others took it
    await sleep(600); // a refresh (every leaseMs / 4) finds it gone
    await lease.release();
    await sleep(50);
    expect(first.isDestroyed).toBe(true);
    const next = await a.pool.acquire();
    expect(next.connection.id).not.toBe(first.id);
    await next.release();
    await a.pool.close();
    a.permits.close();
  });

  it('permits cycle: a replica waiting gets one from a replica that keeps its connections busy', async () => {
    const key = nextKey();
    const busy = replica(key, 2, { holdMs: 200 });
    const late = replica(key, 2, { holdMs: 200 });
    let stop = false;
    const loop = async () => {
      while (!stop) await busy.pool.use(() => sleep(10));
    };
    const loops = [loop(), loop(), loop()];
    await sleep(300);
    expect(busy.pool.stats().permits!.held).toBe(2);
    const started = Date.now();
    const lease = await late.pool.acquire({ timeoutMs: 3_000 });
    const waitedMs = Date.now() - started;
    expect(waitedMs).toBeLessThan(3_000);
    await lease.release();
    stop = true;
    await Promise.all(loops);
    await busy.pool.close();
    await late.pool.close();
    busy.permits.close();
    late.permits.close();
  });

  it('a replica killed with SIGKILL gives its permits back within leaseMs', async () => {
    const key = nextKey();
    const leaseMs = 1_000;
    const script = `
      import { Redis } from 'ioredis';
      import { createPool } from '@pool/core';
      import { redisPermits } from '@pool/fleet';
      const redis = new Redis(${JSON.stringify(server.url)});
      const permits = redisPermits({ redis, key: ${JSON.stringify(key)}, max: 3, leaseMs: ${leaseMs} });
      const pool = createPool({ permits, factory: { create: async () => ({}), destroy: () => {} } });
      await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
      console.log('holding');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url), stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('holding')) resolve(); });
      child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    expect(await redis.zcard(`semaphore:${key}:default`)).toBe(3);
    const a = replica(key, 3);
    child.kill('SIGKILL');
    const killedAt = Date.now();
    const leases = await Promise.all([a.pool.acquire(), a.pool.acquire(), a.pool.acquire()]);
    const backMs = Date.now() - killedAt;
    expect(backMs).toBeLessThan(leaseMs + 500);
    await Promise.all(leases.map((lease) => lease.release()));
    await a.pool.close();
    a.permits.close();
  });

  it('refuses bad options, naming them', () => {
    expect(() => redisPermits({ redis, key: 'k', max: 0 })).toThrow(/Invalid option max/);
    expect(() => redisPermits({ redis, key: '', max: 1 })).toThrow(/Invalid option key/);
    expect(() => redisPermits({ redis: {} as Redis, key: 'k', max: 1 })).toThrow(/Invalid option redis/);
    expect(() => redisPermits({ redis, key: 'k', max: 1, leaseMS: 5 } as never)).toThrow(/leaseMS.*leaseMs/);
  });
});
