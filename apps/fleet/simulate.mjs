// npm run fleet: 10 replicas, each createPgPool({ maxPerNode: 10 }), against one embedded
// PostgreSQL with max_connections 30, under steady load (10 workers each, SELECT pg_sleep).
//   Phase 1: no permits, 10 s: count "too many clients" errors.
//   Phase 2: redisPermits({ max: 25 }): 2 s warm-up, a 20 s window (each replica's throughput and
//   p99), then the replica holding the most permits is SIGKILLed: how long until its permits are back in use, and the
//   others' throughput after it. Bounded: about a minute in all. Prints tables.
// env: REPLICAS (10), LEASE_MS (10000), WINDOW_MS (20000), PHASE1_MS (10000), SLEEP_S (0.02)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startPostgresServer } from '@pool/testkit/pg';
import { startRedisServer } from '@pool/testkit/redis';
import { Redis } from 'ioredis';

const replicas = Number(process.env.REPLICAS ?? 10);
const leaseMs = Number(process.env.LEASE_MS ?? 10_000);
const windowMs = Number(process.env.WINDOW_MS ?? 20_000);
const phase1Ms = Number(process.env.PHASE1_MS ?? 10_000);
const sleepS = process.env.SLEEP_S ?? '0.02';
const warmupMs = 2_000;
const afterKillMs = leaseMs + 6_000;
const replicaScript = fileURLToPath(new URL('./replica.mjs', import.meta.url));

const [pg, redis] = await Promise.all([startPostgresServer({ maxConnections: 30 }), startRedisServer()]);
const hardStop = setTimeout(() => { console.error('fleet simulation: over its time bound'); process.exit(2); }, 3 * 60_000);

function startReplica(index, env) {
  const child = spawn(process.execPath, [replicaScript], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, PG_URL: pg.connectionString, NAME: `replica${index}`, SLEEP_S: sleepS, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const replica = { index, child, ticks: [], done: undefined, killed: false };
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk.toString();
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      if (line.type === 'tick') replica.ticks.push({ ...line, at: Date.now() });
      else replica.done = line;
    }
  });
  replica.exited = new Promise((resolve) => child.once('exit', resolve));
  return replica;
}

const pad = (value, width) => String(value).padStart(width);
try {
  // ---- phase 1: no permits ----
  const plain = Array.from({ length: replicas }, (_, i) => startReplica(i, { DURATION_MS: String(phase1Ms) }));
  await Promise.all(plain.map((replica) => replica.exited));
  const tooMany = plain.reduce((sum, replica) => sum + (replica.done?.tooMany ?? 0), 0);
  const okPlain = plain.reduce((sum, replica) => sum + (replica.done?.ok ?? 0), 0);
  console.log(`\nPhase 1, no permits: ${replicas} replicas x maxPerNode 10 against max_connections 30, ${phase1Ms / 1000} s`);
  const byCode = {};
  for (const replica of plain) for (const [code, n] of Object.entries(replica.done?.byCode ?? {})) byCode[code] = (byCode[code] ?? 0) + n;
  console.log(`  "too many clients" errors (create attempts and queries): ${tooMany}   queries ok: ${okPlain}`);
  console.log(`  failed queries by code: ${JSON.stringify(byCode)} (each failure is followed by a 20 ms back-off)`);

  // ---- phase 2: redisPermits({ max: 25 }) ----
  // Plus slack for processes that start late (imports on a loaded machine): all still run after the kill phase.
  const durationMs = warmupMs + windowMs + afterKillMs + 6_000;
  const env = {
    DURATION_MS: String(durationMs), REDIS_URL: redis.url, PERMITS_MAX: '25', LEASE_MS: String(leaseMs), KEY: 'sim',
    WINDOW_START_MS: String(warmupMs), WINDOW_END_MS: String(warmupMs + windowMs),
  };
  const fleet = Array.from({ length: replicas }, (_, i) => startReplica(i, env));
  const startedAt = Date.now();
  const watcher = new Redis(redis.url);
  let semaphoreKey;
  while (semaphoreKey === undefined) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    semaphoreKey = (await watcher.keys('semaphore:sim:*'))[0];
  }
  // Each replica measures its own window from its own start: kill once every one has passed it.
  while (!fleet.every((replica) => (replica.ticks.at(-1)?.t ?? 0) >= warmupMs + windowMs)) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The victim: the replica holding the most permits at its last report.
  const victim = fleet.reduce((best, replica) => ((replica.ticks.at(-1)?.held ?? 0) > (best.ticks.at(-1)?.held ?? 0) ? replica : best));
  const victimHeld = victim.ticks.at(-1)?.held ?? 0;
  victim.child.kill('SIGKILL');
  victim.killed = true;
  const killedAt = Date.now();
  const live = fleet.filter((replica) => replica !== victim);
  const okAt = (replica, at) => [...replica.ticks].reverse().find((tick) => tick.at <= at)?.ok ?? 0;
  // The victim's permits are the semaphore members whose score (last refresh) stays <= the kill
  // time once every live permit has had a refresh (every leaseMs / 4) since: they are back when
  // none is left. Then count the permits in use, sampled every 100 ms.
  let recoveredAt;
  let zombiesAtKill = 0;
  const inUse = [];
  while (Date.now() < killedAt + afterKillMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const members = await watcher.zrange(semaphoreKey, 0, -1, 'WITHSCORES');
    const scores = members.filter((_, i) => i % 2 === 1).map(Number);
    const stale = scores.filter((score) => score <= killedAt).length;
    if (Date.now() > killedAt + leaseMs / 4 + 1_000) {
      if (zombiesAtKill === 0) zombiesAtKill = stale;
      if (recoveredAt === undefined && stale === 0) recoveredAt = Date.now();
      if (recoveredAt !== undefined) inUse.push(scores.length);
    }
  }
  await Promise.all(live.map((replica) => replica.exited));
  watcher.disconnect();

  console.log(`\nPhase 2, redisPermits({ max: 25, leaseMs: ${leaseMs} }): ${windowMs / 1000} s window after ${warmupMs / 1000} s warm-up`);
  console.log('  replica | queries/s | p99 ms | "too many clients" | other errors');
  const rates = [];
  for (const replica of fleet) {
    const okAtT = (t) => [...replica.ticks].reverse().find((tick) => tick.t <= t)?.ok ?? 0; // the replica's own clock
    const windowOk = replica.done?.windowOk ?? (okAtT(warmupMs + windowMs) - okAtT(warmupMs));
    const rate = windowOk / (windowMs / 1000);
    rates.push(rate);
    const p99 = replica.done?.p99Ms ?? '(killed)';
    const errors = replica.done ? replica.done.tooMany : (replica.ticks.at(-1)?.tooMany ?? 0);
    console.log(`  ${pad(replica.index, 7)} | ${pad(rate.toFixed(1), 9)} | ${pad(p99, 6)} | ${pad(errors, 18)} | ${pad(replica.done?.otherErrors ?? '-', 12)}`);
  }
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const slowest = Math.min(...rates);
  const tooManyFleet = fleet.reduce((sum, replica) => sum + (replica.done?.tooMany ?? replica.ticks.at(-1)?.tooMany ?? 0), 0);
  console.log(`  mean ${mean.toFixed(1)} q/s, slowest ${slowest.toFixed(1)} q/s = ${(slowest / mean).toFixed(2)} x mean (target >= 0.5)`);
  console.log(`  "too many clients" errors with permits: ${tooManyFleet} (target 0)`);

  const shareFrom = killedAt + leaseMs + 1_000;
  const shareTo = killedAt + afterKillMs - 500;
  const beforeKill = live.reduce((sum, replica) => sum + okAt(replica, killedAt) - okAt(replica, killedAt - (shareTo - shareFrom)), 0) / ((shareTo - shareFrom) / 1000);
  const afterKill = live.reduce((sum, replica) => sum + okAt(replica, shareTo) - okAt(replica, shareFrom), 0) / ((shareTo - shareFrom) / 1000);
  console.log(`\nSIGKILL of replica ${victim.index} (${victimHeld} permits at its last report, 0.5 s before):`);
  console.log(`  ${zombiesAtKill} stale permits were gone from Redis ${recoveredAt === undefined ? 'never (within the phase)' : `${recoveredAt - killedAt} ms after the kill`} (leaseMs ${leaseMs})`);
  const meanInUse = inUse.length ? inUse.reduce((a, b) => a + b, 0) / inUse.length : NaN;
  console.log(`  permits in use afterwards, all by the 9 others: mean ${meanInUse.toFixed(1)} of 25, max ${inUse.length ? Math.max(...inUse) : NaN}`);
  console.log(`  the 9 others' throughput: ${beforeKill.toFixed(1)} q/s before the kill, ${afterKill.toFixed(1)} q/s once its permits came back`);
  // Fleet-wide throughput and connection cycling over time, per 2 s.
  const series = [];
  const at = (replica, time, field) => [...replica.ticks].reverse().find((tick) => tick.at <= time)?.[field] ?? 0;
  for (let t = startedAt; t + 2_000 <= killedAt + afterKillMs; t += 2_000) {
    const ok = fleet.reduce((sum, replica) => sum + at(replica, t + 2_000, 'ok') - at(replica, t, 'ok'), 0) / 2;
    const cycled = fleet.reduce((sum, replica) => sum + at(replica, t + 2_000, 'destroyed') - at(replica, t, 'destroyed'), 0) / 2;
    series.push(`${Math.round((t - startedAt) / 1000)}s ${Math.round(ok)}/${Math.round(cycled)}`);
  }
  console.log(`\nFleet over time, queries/s / connections closed per s, per 2 s (kill at ${Math.round((killedAt - startedAt) / 1000)} s):\n  ${series.join(' | ')}`);
  const slowestLive = Math.min(...rates.filter((_, i) => fleet[i] !== victim));
  const pass = tooMany > 0 && tooManyFleet === 0 && slowest >= mean / 2 && slowestLive > 0 && zombiesAtKill > 0 && recoveredAt !== undefined && recoveredAt - killedAt <= leaseMs + 1_000;
  console.log(`\n${pass ? 'PASS' : 'FAIL'}`);
  process.exitCode = pass ? 0 : 1;
} finally {
  clearTimeout(hardStop);
  await Promise.all([pg.stop(), redis.stop()]);
}
