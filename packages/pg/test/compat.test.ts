import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { Pool } from '@pool/pg/compat';
import { PgPoolCompat } from '@pool/pg';
import { connectionOf, startPostgresForFile, uniqueAppName, waitFor } from './helpers.js';

// pg-pool's documented behaviours (README of pg-pool / node-postgres.com/apis/pool), against a real server.
const postgres = startPostgresForFile();

function makePool(config: ConstructorParameters<typeof Pool>[0] = {}): Pool {
  const pool = new Pool({ ...connectionOf(postgres.server), application_name: uniqueAppName('compat'), ...config });
  // A test may have ended the pool itself.
  postgres.closeAfterAll(async () => {
    if (!pool.ending) await pool.end();
  });
  return pool;
}

const pidOf = async (client: pg.ClientBase) => (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;

describe('PgPoolCompat (pg.Pool facade)', () => {
  it('is the same class under both names', () => {
    expect(Pool).toBe(PgPoolCompat);
  });

  it('pool.query runs one query with parameters (promise and callback forms)', async () => {
    const pool = makePool();
    const result = await pool.query('SELECT $1::text AS name', ['brianc']);
    expect(result.rows[0]).toEqual({ name: 'brianc' });
    const viaCallback = await new Promise<pg.QueryResult | undefined>((resolve, reject) => {
      pool.query('SELECT 1 AS one', (error, res) => (error ? reject(error) : resolve(res)));
    });
    expect(viaCallback?.rows[0]).toEqual({ one: 1 });
    const withValues = await new Promise<pg.QueryResult | undefined>((resolve, reject) => {
      pool.query('SELECT $1::int AS n', [5], (error, res) => (error ? reject(error) : resolve(res)));
    });
    expect(withValues?.rows[0]).toEqual({ n: 5 });
    await expect(pool.query('SELEC nonsense')).rejects.toMatchObject({ code: '42601' });
  });

  it('connect() checks out a client; release() returns it; the counters follow', async () => {
    const pool = makePool({ max: 2 });
    expect([pool.totalCount, pool.idleCount, pool.waitingCount]).toEqual([0, 0, 0]);
    const first = await pool.connect();
    const second = await pool.connect();
    expect([pool.totalCount, pool.idleCount]).toEqual([2, 0]);
    const third = pool.connect();
    await waitFor(() => pool.waitingCount === 1, 'one waiter');
    const firstPid = await pidOf(first);
    first.release();
    const reused = await third;
    expect(await pidOf(reused)).toBe(firstPid);
    expect(pool.waitingCount).toBe(0);
    second.release();
    reused.release();
    await waitFor(() => pool.idleCount === 2, 'both idle');
    expect(pool.totalCount).toBe(2);
  });

  it('release(err) and release(true) destroy the client instead of reusing it', async () => {
    const pool = makePool({ max: 1 });
    const removed: pg.Client[] = [];
    pool.on('remove', (client) => removed.push(client as unknown as pg.Client));
    const client = await pool.connect();
    const pid = await pidOf(client);
    client.release(new Error('bad state'));
    await waitFor(() => removed.length === 1, 'remove event');
    expect(removed[0]).toBe(client);
    const next = await pool.connect();
    expect(await pidOf(next)).not.toBe(pid);
    next.release(true);
    await waitFor(() => pool.totalCount === 0, 'client gone');
  });

  it('throws when a client is released twice', async () => {
    const pool = makePool();
    const client = await pool.connect();
    client.release();
    expect(() => client.release()).toThrow('Release called on client which has already been released to the pool.');
  });

  it('connect(callback) passes (err, client, done)', async () => {
    const pool = makePool();
    const value = await new Promise<number>((resolve, reject) => {
      pool.connect((error, client, done) => {
        if (error || !client) return reject(error);
        client.query('SELECT 7 AS seven').then((res) => {
          done();
          resolve(res.rows[0].seven);
        }, reject);
      });
    });
    expect(value).toBe(7);
  });

  it('emits connect, acquire, release and remove with the client', async () => {
    const pool = makePool({ max: 1 });
    const events: string[] = [];
    for (const name of ['connect', 'acquire', 'release', 'remove'] as const) {
      (pool as unknown as NodeJS.EventEmitter).on(name, (...args: unknown[]) => {
        const client = name === 'release' ? args[1] : args[0];
        expect(typeof (client as pg.Client).query).toBe('function');
        events.push(name);
      });
    }
    const client = await pool.connect();
    client.release();
    await pool.query('SELECT 1');
    await pool.end();
    expect(events).toEqual(['connect', 'acquire', 'release', 'acquire', 'release', 'remove']);
  });

  it('connectionTimeoutMillis bounds the wait for a client', async () => {
    const pool = makePool({ max: 1, connectionTimeoutMillis: 150 });
    const held = await pool.connect();
    const started = Date.now();
    await expect(pool.connect()).rejects.toMatchObject({ code: 'ACQUIRE_TIMEOUT' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(2_000);
    held.release();
  });

  it('idleTimeoutMillis closes idle clients', async () => {
    const pool = makePool({ idleTimeoutMillis: 100 });
    await pool.query('SELECT 1');
    expect(pool.totalCount).toBe(1);
    await waitFor(() => pool.totalCount === 0, 'the idle client to close', 3_000);
  });

  it('maxUses retires a client after that many checkouts', async () => {
    const pool = makePool({ max: 1, maxUses: 2 });
    const pids: number[] = [];
    for (let i = 0; i < 4; i++) pids.push((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
    expect(pids[0]).toBe(pids[1]);
    expect(pids[2]).toBe(pids[3]);
    expect(pids[2]).not.toBe(pids[0]);
  });

  it("emits 'error' with the client when an idle client's backend dies, and never crashes without a listener", async () => {
    const applicationName = uniqueAppName('compat-error');
    const pool = makePool({ application_name: applicationName, max: 2 });
    const errors: [Error, pg.Client][] = [];
    pool.on('error', (error, client) => errors.push([error, client as unknown as pg.Client]));
    await pool.query('SELECT 1');
    await postgres.admin.query('SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    await waitFor(() => errors.length > 0 && pool.totalCount === 0, 'the error event and eviction');
    expect(errors[0]?.[0].message).toContain('terminating connection');

    const silentName = uniqueAppName('compat-silent');
    const silent = makePool({ application_name: silentName });
    await silent.query('SELECT 1');
    await postgres.admin.query('SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = $1', [silentName]);
    await waitFor(() => silent.totalCount === 0, 'the silent pool to evict');
    expect((await silent.query('SELECT 1 AS ok')).rows[0]).toEqual({ ok: 1 });
  });

  it('end() closes every client; the pool refuses work afterwards; end twice rejects', async () => {
    const applicationName = uniqueAppName('compat-end');
    const pool = makePool({ application_name: applicationName });
    await Promise.all([pool.query('SELECT pg_sleep(0.05)'), pool.query('SELECT pg_sleep(0.05)')]);
    expect(pool.totalCount).toBeGreaterThanOrEqual(2);
    await pool.end();
    expect(pool.ended).toBe(true);
    expect(pool.totalCount).toBe(0);
    await waitFor(async () => {
      const left = await postgres.admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      return left.rows[0].n === 0;
    }, 'the backends to exit');
    await expect(pool.query('SELECT 1')).rejects.toThrow('Cannot use a pool after calling end on the pool');
    await expect(pool.connect()).rejects.toThrow('Cannot use a pool after calling end on the pool');
    await expect(pool.end()).rejects.toThrow('Called end on pool more than once');
  });

  it('as pg.Pool, leaves a released session as it was; resetOnRelease rolls back when switched on', async () => {
    const plain = makePool({ max: 1 });
    const client = await plain.connect();
    await client.query('BEGIN');
    client.release();
    const same = await plain.connect();
    expect((await same.query('SELECT now() = statement_timestamp() AS fresh')).rows[0].fresh).toBe(false);
    await same.query('ROLLBACK');
    same.release();

    const resetting = makePool({ max: 1, resetOnRelease: 'rollback' });
    const first = await resetting.connect();
    await first.query('BEGIN');
    await first.query('CREATE TEMP TABLE leftover (id int)');
    first.release();
    const next = await resetting.connect();
    expect((await next.query("SELECT to_regclass('pg_temp.leftover') AS t")).rows[0].t).toBeNull();
    next.release();
  });

  it('refuses option names neither pg nor the pool knows, naming the nearest', () => {
    expect(() => new Pool({ maxx: 3 } as never)).toThrow(/Unknown option maxx \(did you mean max\?\)/);
    expect(() => new Pool({ idleTimeoutMilis: 3 } as never)).toThrow(/did you mean idleTimeoutMillis/);
    expect(() => new Pool({ resetOnReleese: 'rollback' } as never)).toThrow(/did you mean resetOnRelease/);
    // pg.Client settings are accepted as pg.Pool accepts them.
    expect(() => new Pool({ lock_timeout: 1000, binary: false, keepAliveInitialDelayMillis: 10 } as never)).not.toThrow();
  });
});
