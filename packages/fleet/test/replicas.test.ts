import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresServer, type PostgresServer } from '@pool/testkit/pg';
import { startRedisServer, type RedisServer } from '@pool/testkit/redis';

const replicaScript = fileURLToPath(new URL('./fixtures/replica.mjs', import.meta.url));
let pg: PostgresServer;
let redis: RedisServer;

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgresServer({ maxConnections: 20 }), startRedisServer()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([pg?.stop(), redis?.stop()]);
});

interface Done { ok: number; tooMany: number; otherErrors: number; lastOther: string; p99Ms: number }

async function runReplicas(count: number, env: Record<string, string>): Promise<Done[]> {
  const runs = Array.from({ length: count }, (_, index) => new Promise<Done>((resolve, reject) => {
    const child = spawn(process.execPath, [replicaScript], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, PG_URL: pg.connectionString, NAME: `replica${index}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.once('exit', (code) => {
      clearTimeout(killer);
      const last = stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string } & Done).find((line) => line.type === 'done');
      if (code !== 0 || last === undefined) reject(new Error(`replica ${index} exited ${code}: ${stderr}`));
      else resolve(last);
    });
  }));
  return Promise.all(runs);
}

describe('replicas against one PostgreSQL with max_connections 20', () => {
  it('without permits, 4 x maxPerNode 10 hit "too many clients"; with redisPermits({ max: 12 }) none, every replica progresses', async () => {
    const without = await runReplicas(4, { DURATION_MS: '3000' });
    const tooManyWithout = without.reduce((sum, run) => sum + run.tooMany, 0);
    expect(tooManyWithout).toBeGreaterThan(0);

    const withPermits = await runReplicas(4, { DURATION_MS: '4000', REDIS_URL: redis.url, PERMITS_MAX: '12', LEASE_MS: '3000', KEY: 'replicas' });
    for (const run of withPermits) {
      expect(run.tooMany).toBe(0);
      expect(run.otherErrors, run.lastOther).toBe(0);
      expect(run.ok).toBeGreaterThan(0);
    }
  }, 90_000);
});
