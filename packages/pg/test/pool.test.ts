import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createPgPool, isPoolError, type PgPool, type PgPoolOptions } from '@pool/pg';
import { backendsOf, connectionOf, startPostgresForFile, uniqueAppName, waitFor } from './helpers.js';

const postgres = startPostgresForFile();

function makePool(options: Partial<PgPoolOptions> = {}): PgPool {
  const pool = createPgPool({ ...connectionOf(postgres.server), applicationName: uniqueAppName('pool'), ...options });
  postgres.closeAfterAll(() => pool.close());
  return pool;
}

const transactionStatusOf = (client: pg.Client) => (client as pg.Client & { getTransactionStatus(): string }).getTransactionStatus();

const backendPid = async (pool: PgPool) => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;

describe('query', () => {
  it("returns pg's result shape with parameters", async () => {
    const pool = makePool();
    const result = await pool.query<{ n: number; s: string }>('SELECT $1::int AS n, $2::text AS s', [41, 'x']);
    expect(result.rows).toEqual([{ n: 41, s: 'x' }]);
    expect(result.rowCount).toBe(1);
    expect(result.command).toBe('SELECT');
    expect(result.fields.map((field) => field.name)).toEqual(['n', 's']);
    const fromConfig = await pool.query({ text: 'SELECT $1::int AS n', values: [7] });
    expect(fromConfig.rows[0]).toEqual({ n: 7 });
    const asArrays = await pool.query({ text: 'SELECT 1 AS a, 2 AS b', rowMode: 'array' } as pg.QueryConfig);
    expect(asArrays.rows).toEqual([[1, 2]]);
  });

  it('rejects with the server error and keeps the connection', async () => {
    const pool = makePool({ maxPerNode: 1 });
    const pid = await backendPid(pool);
    await expect(pool.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    expect(await backendPid(pool)).toBe(pid);
  });

  it('never opens more backends than maxPerNode (pg_stat_activity)', async () => {
    const applicationName = uniqueAppName('limit');
    const pool = makePool({ maxPerNode: 3, applicationName });
    let peak = 0;
    let isRunning = true;
    const sampler = (async () => {
      while (isRunning) {
        peak = Math.max(peak, await backendsOf(postgres.admin, applicationName));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const queries = Array.from({ length: 12 }, () => pool.query('SELECT pg_sleep(0.1)'));
    expect(pool.stats().waiting).toBeGreaterThan(0);
    await Promise.all(queries);
    isRunning = false;
    await sampler;
    expect(peak).toBe(3);
    expect(pool.stats().total).toBe(3);
    await pool.drain();
    await waitFor(async () => (await backendsOf(postgres.admin, applicationName)) === 0, 'backends to close after drain');
  });
});

describe('partitions', () => {
  it('caps concurrent queries of a partition and rejects unknown partitions', async () => {
    const pool = makePool({ maxPerNode: 6, partitions: { reports: { max: 2 } } });
    let running = 0;
    let peak = 0;
    const report = async () => {
      const lease = await pool.acquire({ partition: 'reports' });
      running++;
      peak = Math.max(peak, running);
      try {
        await lease.connection.query('SELECT pg_sleep(0.05)');
      } finally {
        running--;
        await lease.release();
      }
    };
    await Promise.all([...Array.from({ length: 6 }, report), pool.query('SELECT 1', [], { partition: 'reports' })]);
    expect(peak).toBe(2);
    expect(pool.stats().partitions['reports']).toMatchObject({ active: 0, max: 2 });
    await expect(pool.query('SELECT 1', [], { partition: 'nope' })).rejects.toMatchObject({ code: 'PARTITION_UNKNOWN' });
  });
});

describe('transaction', () => {
  it('commits, and rolls back when fn throws', async () => {
    const pool = makePool();
    await pool.query('CREATE TABLE IF NOT EXISTS tx_test (id int)');
    await pool.query('TRUNCATE tx_test');
    const value = await pool.transaction(async (client) => {
      await client.query('INSERT INTO tx_test VALUES (1)');
      return 'done';
    });
    expect(value).toBe('done');
    await expect(
      pool.transaction(async (client) => {
        await client.query('INSERT INTO tx_test VALUES (2)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await pool.query('SELECT id FROM tx_test ORDER BY id')).rows).toEqual([{ id: 1 }]);
  });

  it('applies isolation and read only', async () => {
    const pool = makePool();
    const seen = await pool.transaction(
      async (client) => {
        const isolation = await client.query('SHOW transaction_isolation');
        const readOnly = await client.query('SHOW transaction_read_only');
        return [isolation.rows[0]?.transaction_isolation, readOnly.rows[0]?.transaction_read_only];
      },
      { isolation: 'serializable', readOnly: true },
    );
    expect(seen).toEqual(['serializable', 'on']);
    await expect(pool.transaction(() => 1, { isolation: 'chaos' as 'serializable' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
  });

  it('rejects when the server turned COMMIT into ROLLBACK (an error was swallowed)', async () => {
    const pool = makePool();
    await expect(
      pool.transaction(async (client) => {
        await client.query('SELECT 1/0').catch(() => undefined);
      }),
    ).rejects.toMatchObject({ code: '25P02' });
    expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
  });

  it('destroys the connection when ROLLBACK cannot run (backend gone)', async () => {
    const pool = makePool({ maxPerNode: 1 });
    const destroyed: string[] = [];
    pool.on('destroy', (event) => destroyed.push(event.reason));
    const pid = await backendPid(pool);
    await expect(
      pool.transaction(async (client) => {
        await client.query('SELECT pg_terminate_backend(pg_backend_pid())');
      }),
    ).rejects.toBeDefined();
    await waitFor(() => destroyed.includes('broken'), 'the broken connection to be destroyed');
    const nextPid = await backendPid(pool);
    expect(nextPid).not.toBe(pid);
  });
});

describe('reset on release', () => {
  it('rolls back an open or failed transaction left by a released connection', async () => {
    const pool = makePool({ maxPerNode: 1 });
    await pool.query('CREATE TABLE IF NOT EXISTS reset_test (id int)');
    const open = await pool.acquire();
    await open.connection.query('BEGIN');
    await open.connection.query('INSERT INTO reset_test VALUES (42)');
    await open.release();

    const failed = await pool.acquire();
    const pid = (await failed.connection.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    expect((await failed.connection.query('SELECT count(*)::int AS n FROM reset_test WHERE id = 42')).rows[0].n).toBe(0);
    await failed.connection.query('BEGIN');
    await expect(failed.connection.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    await failed.release();

    const next = await pool.acquire();
    try {
      expect((await next.connection.query('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid);
      expect((await next.connection.query('SELECT 1 AS ok')).rows[0]).toEqual({ ok: 1 });
    } finally {
      await next.release();
    }
  });

  it("'discard' clears SET, temp tables, prepared statements and LISTEN", async () => {
    const pool = makePool({ maxPerNode: 1, resetOnRelease: 'discard' });
    await pool.use(async (client) => {
      await client.query("SET application_name = 'dirty'");
      await client.query('CREATE TEMP TABLE scratch (id int)');
      await client.query({ name: 'stmt', text: 'SELECT 1 AS one' });
      await client.query('LISTEN some_channel');
    });
    await pool.use(async (client) => {
      expect((await client.query('SHOW application_name')).rows[0].application_name).not.toBe('dirty');
      expect((await client.query("SELECT to_regclass('pg_temp.scratch') AS t")).rows[0].t).toBeNull();
      expect((await client.query('SELECT count(*)::int AS n FROM pg_listening_channels()')).rows[0].n).toBe(0);
      expect((await client.query('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows[0].n).toBe(0);
      // pg's client-side statement cache was cleared too, so the named statement is prepared again.
      expect((await client.query({ name: 'stmt', text: 'SELECT 1 AS one' })).rows[0]).toEqual({ one: 1 });
    });
  });

  it('a lease ends once: a second release rejects LEASE_RELEASED; dispose is idempotent', async () => {
    const pool = makePool({ maxPerNode: 1 });
    const lease = await pool.acquire();
    await lease.connection.query('BEGIN');
    await lease.release();
    await expect(lease.release()).rejects.toMatchObject({ code: 'LEASE_RELEASED' });
    await expect(lease.destroy()).rejects.toMatchObject({ code: 'LEASE_RELEASED' });
    await lease[Symbol.asyncDispose]();
    {
      await using scoped = await pool.acquire();
      expect((await scoped.connection.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
      await scoped.connection.query('BEGIN');
    }
    const next = await pool.acquire();
    expect(transactionStatusOf(next.connection)).toBe('I');
    await next.release();
    expect(pool.stats()).toMatchObject({ total: 1, leases: 0, destroyed: 0 });
  });

  it("'rollback' (default) keeps session state", async () => {
    const pool = makePool({ maxPerNode: 1 });
    await pool.use((client) => client.query("SET search_path = 'kept'"));
    const path = await pool.use((client) => client.query('SHOW search_path'));
    expect(path.rows[0].search_path).toBe('kept');
  });
});

describe('timeouts and cancellation', () => {
  it('statementTimeoutMs makes the server cancel long statements; the connection stays', async () => {
    const pool = makePool({ maxPerNode: 1, statementTimeoutMs: 150 });
    const pid = await backendPid(pool);
    await expect(pool.query('SELECT pg_sleep(3)')).rejects.toMatchObject({ code: '57014' });
    expect(await backendPid(pool)).toBe(pid);
  });

  it('an aborted query sends a cancel request; the clean connection is reused', async () => {
    const applicationName = uniqueAppName('cancel');
    const pool = makePool({ maxPerNode: 1, applicationName });
    const pid = await backendPid(pool);
    const controller = new AbortController();
    const started = Date.now();
    const running = pool.query('SELECT pg_sleep(30)', [], { signal: controller.signal });
    await waitFor(async () => {
      const result = await postgres.admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep(30)%' AND state = 'active'", [pid]);
      return result.rowCount === 1;
    }, 'the query to run');
    controller.abort(new Error('user gave up'));
    const error = await running.catch((caught: unknown) => caught);
    expect(isPoolError(error, 'ABORTED')).toBe(true);
    expect((error as Error).cause).toEqual(new Error('user gave up'));
    // The server stopped the statement: the backend is idle again well before 30 s.
    await waitFor(async () => {
      const result = await postgres.admin.query("SELECT state FROM pg_stat_activity WHERE pid = $1", [pid]);
      return result.rows[0]?.state === 'idle';
    }, 'the backend to go idle');
    expect(await backendPid(pool)).toBe(pid);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(pool.stats().destroyed).toBe(0);
  });

  it('queryTimeoutMs cancels on the server too', async () => {
    const pool = makePool({ maxPerNode: 1, queryTimeoutMs: 200 });
    const pid = await backendPid(pool);
    const started = Date.now();
    const error = await pool.query('SELECT pg_sleep(30)').catch((caught: unknown) => caught);
    expect(isPoolError(error, 'ABORTED')).toBe(true);
    expect((error as Error & { cause: Error }).cause.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(2_000);
    // Per call override, and the same backend serves again once the cancel completed.
    expect((await pool.query('SELECT pg_backend_pid() AS pid', [], { queryTimeoutMs: 0 })).rows[0]?.pid).toBe(pid);
  });

  it('destroys the connection when the cancelled query does not end within cancelTimeoutMs', async () => {
    const applicationName = uniqueAppName('cancel-slow');
    const pool = makePool({ maxPerNode: 1, applicationName, cancelTimeoutMs: 300 });
    const destroyed: string[] = [];
    pool.on('destroy', (event) => destroyed.push(event.reason));
    const pid = await backendPid(pool);
    if (pid === undefined) throw new Error('no backend pid');
    const running = pool.query('SELECT pg_sleep(30)', [], { queryTimeoutMs: 200 }).catch((caught: unknown) => caught);
    await waitFor(async () => {
      const result = await postgres.admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [pid]);
      return result.rowCount === 1;
    }, 'the query to run');
    // Freeze the backend (same machine, we are root): the cancel cannot take effect in time.
    process.kill(pid, 'SIGSTOP');
    try {
      expect(isPoolError(await running, 'ABORTED')).toBe(true);
      await waitFor(() => destroyed.includes('broken'), 'the unclean connection to be destroyed');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(async () => (await backendsOf(postgres.admin, applicationName)) === 0, 'its backend to exit');
    expect(await backendPid(pool)).not.toBe(pid);
  });

  it('an already-aborted signal rejects ABORTED without running anything', async () => {
    const pool = makePool();
    await expect(pool.query('SELECT 1', [], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('secrets', () => {
  it('scrubs the password from server errors that echo it', async () => {
    const pool = makePool();
    const error = await pool.query('SELECT $1::int', [postgres.server.password]).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: '22P02' });
    expect((error as Error).message).toContain('<redacted>');
    expect(`${(error as Error).message}${(error as Error).stack}`).not.toContain(postgres.server.password);
  });


  it('never shows the password or connection string in errors, events, stats or health', async () => {
    const wrongPassword = 'Wr0ng-Secret-Passw0rd';
    const connectionString = `postgres://${postgres.server.user}:${wrongPassword}@127.0.0.1:${postgres.server.port}/postgres`;
    const seen: string[] = [];
    const pool = createPgPool({
      connectionString,
      createRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      acquireTimeoutMs: 5_000,
    });
    postgres.closeAfterAll(() => pool.close());
    for (const name of ['createError', 'error', 'destroy', 'circuitOpen'] as const) {
      pool.on(name, (event) => seen.push(JSON.stringify(event, Object.getOwnPropertyNames(event)), describe(event)));
    }
    const error = await pool.query('SELECT 1').catch((caught: unknown) => caught);
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    seen.push(describe(error), JSON.stringify(pool.stats()), JSON.stringify(await pool.health()));
    const everything = seen.join('\n');
    expect(everything).toContain('password authentication failed');
    expect(everything).not.toContain(wrongPassword);
    expect(everything).not.toContain(postgres.server.password);
    expect(everything).not.toContain(connectionString);

    function describe(value: unknown): string {
      const parts: string[] = [];
      for (let current = value as { message?: unknown; stack?: unknown; cause?: unknown } | undefined, depth = 0; current && depth < 5; depth++) {
        parts.push(String(current.message), String(current.stack), JSON.stringify(current, Object.getOwnPropertyNames(current)));
        current = (current as { cause?: never; error?: never }).cause ?? (current as { error?: never }).error;
      }
      return parts.join('\n');
    }
  });
});
