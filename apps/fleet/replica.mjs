// One replica of a service: a @pool/pg pool (maxPerNode 10) under steady load, optionally with
// fleet-wide permits from Redis. Prints one JSON line per second and a summary at the end.
// env: PG_URL, REDIS_URL (none = no permits), PERMITS_MAX, LEASE_MS, HOLD_MS, DURATION_MS,
// CONCURRENCY, SLEEP_S, KEY, NAME, WINDOW_START_MS, WINDOW_END_MS (the measured window, from start)
import { createPgPool } from '@pool/pg';
import { redisPermits } from '@pool/fleet';
import { Redis } from 'ioredis';

const env = process.env;
const durationMs = Number(env.DURATION_MS ?? 5_000);
const concurrency = Number(env.CONCURRENCY ?? 10);
const sleepS = Number(env.SLEEP_S ?? 0.02);
const redis = env.REDIS_URL ? new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined;
redis?.on('error', () => {});
const permits = redis
  ? redisPermits({ redis, key: env.KEY ?? 'fleet', max: Number(env.PERMITS_MAX ?? 25), leaseMs: Number(env.LEASE_MS ?? 10_000), ...(env.HOLD_MS ? { holdMs: Number(env.HOLD_MS) } : {}) })
  : undefined;
const pool = createPgPool({
  connectionString: env.PG_URL, maxPerNode: 10, acquireTimeoutMs: 15_000, idleTimeoutMs: 60_000,
  name: env.NAME ?? 'replica', ...(permits ? { permits } : {}),
});
const counts = { ok: 0, tooMany: 0, otherErrors: 0, lastOther: '', byCode: {} };
const latencies = [];
const windowStart = Number(env.WINDOW_START_MS ?? 0);
const windowEnd = Number(env.WINDOW_END_MS ?? Infinity);
let windowOk = 0;
const isTooMany = (error) => /too many clients|remaining connection slots/i.test(String(error?.message ?? error) + String(error?.cause?.message ?? ''));
pool.on('createError', ({ error }) => { if (isTooMany(error)) counts.tooMany++; });
pool.on('error', () => {});

const start = Date.now();
const end = start + durationMs;
async function worker() {
  while (Date.now() < end) {
    const started = performance.now();
    try {
      await pool.query(`SELECT pg_sleep(${sleepS})`);
      counts.ok++;
      const at = Date.now() - start;
      if (at >= windowStart && at < windowEnd) {
        windowOk++;
        latencies.push(performance.now() - started);
      }
    } catch (error) {
      if (isTooMany(error)) counts.tooMany++;
      else { counts.otherErrors++; counts.lastOther = String(error?.message ?? error).slice(0, 160); }
      const code = error?.code ?? 'other';
      counts.byCode[code] = (counts.byCode[code] ?? 0) + 1;
      // A service backs off after a failure rather than spinning on it.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
const ticker = setInterval(() => {
  const stats = pool.stats();
  console.log(JSON.stringify({ type: 'tick', t: Date.now() - start, ok: counts.ok, tooMany: counts.tooMany, held: permits?.held ?? stats.total, total: stats.total, destroyed: stats.destroyed }));
}, 500);
await Promise.all(Array.from({ length: concurrency }, worker));
clearInterval(ticker);
latencies.sort((a, b) => a - b);
const p99 = latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] : NaN;
await pool.close();
permits?.close();
redis?.disconnect();
console.log(JSON.stringify({ type: 'done', ...counts, windowOk, p99Ms: Math.round(p99), seconds: durationMs / 1000 }));
