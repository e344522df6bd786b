import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool, isPoolError, type PgPool, type PgPoolOptions } from '@pool/pg';
import { Pool } from '@pool/pg/compat';
import { invalidOptionsError } from '@pool/testkit';
import { rejection } from '@pool/testkit/expect';
import { startPgBouncer, type PgBouncer } from '@pool/testkit/pgbouncer';
import { startPostgresForFile, waitFor } from './helpers.js';

/**
 * A real PgBouncer (Debian's package) in transaction mode in front of embedded PostgreSQL, both on
 * 127.0.0.1: consecutive transactions of one client connection run on different server sessions.
 */
const postgres = startPostgresForFile();
let bouncer: PgBouncer;
const SERVER_POOL_SIZE = 3;

beforeAll(async () => {
  bouncer = await startPgBouncer(postgres.server, { poolMode: 'transaction', defaultPoolSize: SERVER_POOL_SIZE });
});
afterAll(async () => {
  await bouncer?.stop();
});

const through = () => ({ host: bouncer.host, port: bouncer.port, user: bouncer.user, password: bouncer.password, database: bouncer.database });

function makePool(options: Partial<PgPoolOptions> = {}): PgPool {
  const pool = createPgPool({ ...through(), pgbouncer: 'transaction', maxPerNode: 8, ...options });
  postgres.closeAfterAll(() => pool.close());
  return pool;
}

/** Server backends that serve PgBouncer (everything but the test's admin connection). */
async function serverBackends(): Promise<number> {
  const { rows } = await postgres.admin.query<{ count: string }>(
    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND usename = $1",
    [postgres.server.user],
  );
  return Number(rows[0]?.count ?? 0);
}

describe('@pool/pg behind PgBouncer in transaction mode', () => {
  it(`runs concurrent queries of 8 pool connections on ${SERVER_POOL_SIZE} server sessions`, async () => {
    const pool = makePool();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, index) => pool.query<{ n: number }>('SELECT $1::int AS n, pg_sleep(0.01)', [index])),
    );
    expect(results.map((result) => result.rows[0]?.n)).toEqual(Array.from({ length: 40 }, (_, index) => index));
    expect(pool.stats().created).toBeGreaterThan(SERVER_POOL_SIZE);
    expect(await serverBackends()).toBeLessThanOrEqual(SERVER_POOL_SIZE);
    expect(bouncer.version).toMatch(/^PgBouncer \d+\.\d+/);
  });

  it('a transaction runs on one server session, commits, and rolls back when fn throws', async () => {
    const pool = makePool();
    await pool.query('CREATE TABLE IF NOT EXISTS bouncer_accounts (id int PRIMARY KEY, balance int)');
    await pool.query('TRUNCATE bouncer_accounts');
    const pids = await pool.transaction(async (client) => {
      const first = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await client.query('INSERT INTO bouncer_accounts VALUES (1, 100)');
      await client.query('SELECT pg_sleep(0.02)');
      const second = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      return [first.rows[0]?.pid, second.rows[0]?.pid];
    });
    expect(pids[0]).toBe(pids[1]);
    const failure = await rejection(
      pool.transaction(async (client) => {
        await client.query('INSERT INTO bouncer_accounts VALUES (2, 5)');
        throw new Error('changed my mind');
      }),
    );
    expect((failure as Error).message).toBe('changed my mind');
    const { rows } = await pool.query<{ id: number }>('SELECT id FROM bouncer_accounts ORDER BY id');
    expect(rows).toEqual([{ id: 1 }]);
  });

  it('a lease released inside a transaction is rolled back before the server session is shared again', async () => {
    const pool = makePool({ maxPerNode: 1 });
    await pool.query('CREATE TABLE IF NOT EXISTS bouncer_left_open (id int)');
    const lease = await pool.acquire();
    await lease.connection.query('BEGIN');
    await lease.connection.query('INSERT INTO bouncer_left_open VALUES (1)');
    await lease.release();
    const { rows } = await pool.query<{ count: string }>('SELECT count(*) FROM bouncer_left_open');
    expect(rows[0]?.count).toBe('0');
  });

  it('cancellation: an aborted query and a queryTimeoutMs send a cancel through PgBouncer; the server stops it', async () => {
    const pool = makePool();
    const controller = new AbortController();
    const started = Date.now();
    const running = pool.query('SELECT pg_sleep(30)', [], { signal: controller.signal });
    await waitFor(async () => (await sleepingBackends()) > 0, 'the sleep to reach the server');
    controller.abort();
    expect(isPoolError(await rejection(running), 'ABORTED')).toBe(true);
    await waitFor(async () => (await sleepingBackends()) === 0, 'the server to stop the cancelled query');
    const timedOut = await rejection(pool.query('SELECT pg_sleep(30)', [], { queryTimeoutMs: 200 }));
    expect(isPoolError(timedOut, 'ABORTED')).toBe(true);
    await waitFor(async () => (await sleepingBackends()) === 0, 'the server to stop the timed-out query');
    expect(Date.now() - started).toBeLessThan(15_000);
    // The pool and the bouncer's sessions are fine afterwards.
    expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
  });

  it('statement timeouts: SET LOCAL inside a transaction works (57014); statementTimeoutMs is refused', async () => {
    const pool = makePool();
    const error = await rejection(
      pool.transaction(async (client) => {
        await client.query("SET LOCAL statement_timeout = '100ms'");
        await client.query('SELECT pg_sleep(5)');
      }),
    );
    expect((error as { code?: string }).code).toBe('57014');
    // SET LOCAL ended with its transaction: the session PgBouncer hands out next has no timeout.
    expect((await pool.query<{ t: string }>("SELECT current_setting('statement_timeout') AS t")).rows[0]?.t).toBe('0');
    const refused = invalidOptionsError(() => createPgPool({ ...through(), pgbouncer: 'transaction', statementTimeoutMs: 1_000 }));
    expect(refused.message).toMatch(/^Invalid option statementTimeoutMs: got 1000, must be unset behind PgBouncer/);
    expect(refused.message).toContain('queryTimeoutMs');
  });

  it('why statementTimeoutMs is refused: without the option, PgBouncer rejects the startup parameter', async () => {
    const pool = createPgPool({ ...through(), statementTimeoutMs: 1_000, createRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
    postgres.closeAfterAll(() => pool.close());
    const error = await rejection(pool.query('SELECT 1'));
    expect(String((error as Error & { cause?: Error }).cause?.message)).toContain('unsupported startup parameter: statement_timeout');
  });

  it('refuses the other settings that cannot work: discard reset, startup-only settings, named statements', async () => {
    const base = { ...through(), pgbouncer: 'transaction' as const };
    expect(invalidOptionsError(() => createPgPool({ ...base, resetOnRelease: 'discard' })).message).toMatch(/^Invalid option resetOnRelease/);
    expect(invalidOptionsError(() => createPgPool({ ...base, lock_timeout: 100 })).message).toMatch(/^Invalid option lock_timeout/);
    expect(invalidOptionsError(() => createPgPool({ ...base, client: { idle_in_transaction_session_timeout: 100 } })).message).toMatch(
      /^Invalid option client\.idle_in_transaction_session_timeout/,
    );
    expect(invalidOptionsError(() => createPgPool({ ...base, pgbouncer: 'session' as 'transaction' })).message).toMatch(/^Invalid option pgbouncer/);
    const pool = makePool();
    const named = await rejection(pool.query({ name: 'by-id', text: 'SELECT $1::int AS n', values: [1] }));
    expect(isPoolError(named, 'INVALID_OPTIONS')).toBe(true);
    expect((named as Error).message).toMatch(/^Invalid option name: got "by-id".*max_prepared_statements/);
    // Unnamed statements with parameters (extended protocol, one Sync) are fine.
    expect((await pool.query('SELECT $1::int AS n', [7])).rows[0]).toEqual({ n: 7 });
    // With preparedStatements (PgBouncer >= 1.21 tracking them) the pool sends named statements.
    const tracked = makePool({ pgbouncer: { poolMode: 'transaction', preparedStatements: true }, maxPerNode: 1 });
    expect((await tracked.query({ name: 'tracked', text: 'SELECT $1::int AS n', values: [3] })).rows[0]).toEqual({ n: 3 });
    expect(invalidOptionsError(() => createPgPool({ ...through(), pgbouncer: { poolMode: 'transaction', preparedStatements: 'yes' as unknown as boolean } })).message).toMatch(
      /^Invalid option pgbouncer\.preparedStatements/,
    );
  });

  it('the pg.Pool facade through PgBouncer: query, connect/release, a transaction on a checked-out client', async () => {
    const facade = new Pool({ ...through(), max: 4 });
    try {
      expect((await facade.query('SELECT $1::text AS hello', ['bouncer'])).rows[0]).toEqual({ hello: 'bouncer' });
      const client = await facade.connect();
      try {
        await client.query('BEGIN');
        const a = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const b = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await client.query('COMMIT');
        expect(a.rows[0]?.pid).toBe(b.rows[0]?.pid);
      } finally {
        client.release();
      }
      const all = await Promise.all(Array.from({ length: 12 }, (_, index) => facade.query('SELECT $1::int AS n', [index])));
      expect(all.map((result) => result.rows[0]?.n)).toEqual(Array.from({ length: 12 }, (_, index) => index));
    } finally {
      await facade.end();
    }
  });
});

async function sleepingBackends(): Promise<number> {
  const { rows } = await postgres.admin.query<{ count: string }>(
    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active' AND pid <> pg_backend_pid()",
  );
  return Number(rows[0]?.count ?? 0);
}
