import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeNodeScript, readmeExample, runNodeScript } from '@pool/testkit';
import { startPostgresServer, type PostgresServer } from '@pool/testkit/pg';
import { startRedisServer, type RedisServer } from '@pool/testkit/redis';

/** Plain `node` processes against the built package: each must end by itself with exit 0. */
const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
let pg: PostgresServer;
let redis: RedisServer;

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgresServer(), startRedisServer()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([pg?.stop(), redis?.stop()]);
});

describe('@pool/fleet in a plain node process', () => {
  it("the README's first example runs as is and the process ends by itself", async () => {
    const example = readmeExample(join(packageDir, 'README.md'));
    expect(example.lang).toBe('js');
    const result = await runNodeScript({ source: example.code, cwd: packageDir, env: { DATABASE_URL: pg.connectionString, REDIS_URL: redis.url }, timeoutMs: 30_000 });
    expect(result.code, describeNodeScript(result)).toBe(0);
    expect(result.stdout.trim()).toBe('1 1');
  });

  it('Redis unreachable: the acquire fails with a PoolError within its timeout, no crash, exit 0', async () => {
    const source = `
import { Redis } from 'ioredis';
import { createPool } from '@pool/core';
import { redisPermits } from '@pool/fleet';
const redis = new Redis({ host: '127.0.0.1', port: 1, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
redis.on('error', () => {});
const permits = redisPermits({ redis, key: 'down', max: 2 });
const pool = createPool({ permits, acquireTimeoutMs: 1500, factory: { create: async () => ({}), destroy: () => {} } });
const started = Date.now();
const error = await pool.acquire().catch((caught) => caught);
console.log(error.code, Date.now() - started < 5000, pool.stats().nodes.default.circuit);
await pool.close();
permits.close();
redis.disconnect();
`;
    const result = await runNodeScript({ source, cwd: packageDir, env: {}, timeoutMs: 20_000 });
    expect(result.code, describeNodeScript(result)).toBe(0);
    expect(result.stdout.trim()).toMatch(/^(CREATE_FAILED|ACQUIRE_TIMEOUT) true closed$/);
  });
});
