import pg from 'pg';
import Cursor from 'pg-cursor';
import QueryStream from 'pg-query-stream';
import { describe, expect, it } from 'vitest';
import { createPgPool, isPoolError } from '@pool/pg';
import { Pool } from '@pool/pg/compat';
import { poolFor } from './compat-helpers.js';
import { connectionOf, startPostgresForFile, uniqueAppName } from './helpers.js';

const postgres = startPostgresForFile();
const makePool = poolFor(postgres);

const readCursor = (cursor: Cursor, rows: number) =>
  new Promise<unknown[]>((resolve, reject) => cursor.read(rows, (error, read) => (error ? reject(error) : resolve(read))));

describe('the facade is a pg.Pool', () => {
  it("is an instance of the user's pg.Pool (the one `import pg from 'pg'` gives)", () => {
    const pool = makePool();
    expect(pool).toBeInstanceOf(pg.Pool);
    expect(pool.options.max).toBe(10);
    expect(pool.options.idleTimeoutMillis).toBe(10_000);
  });
});

describe('submittables on the facade, as on pg.Pool', () => {
  it('pool.query(new Cursor(...)) streams rows on a pooled client, which goes back when the cursor ends', async () => {
    const pool = makePool({ max: 1 });
    const cursor = new Cursor('SELECT g FROM generate_series(1, 100) g');
    void pool.query(cursor as never);
    expect((await readCursor(cursor, 10)).length).toBe(10);
    expect(pool.idleCount).toBe(0);
    await new Promise<void>((resolve) => cursor.close(() => resolve()));
    // pg.Pool keeps this client checked out forever (pg-cursor never calls back); here the cursor's end frees it.
    await expect.poll(() => pool.idleCount).toBe(1);
    expect((await pool.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
  });

  it('pool.query(new QueryStream(...)) streams every row and the client goes back', async () => {
    const pool = makePool({ max: 1 });
    const stream = new QueryStream('SELECT g FROM generate_series(1, 500) g', []);
    const settled = pool.query(stream as never) as unknown as Promise<unknown>;
    let count = 0;
    for await (const _row of stream) count++;
    expect(count).toBe(500);
    await settled;
    await expect.poll(() => pool.idleCount).toBe(1);
    expect((await pool.query('SELECT 2 AS two')).rows[0].two).toBe(2);
  });

  it('a cursor on a checked-out client works as on a pg.Client', async () => {
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    const cursor = client.query(new Cursor('SELECT g FROM generate_series(1, 50) g'));
    expect((await readCursor(cursor, 25)).length).toBe(25);
    await new Promise<void>((resolve) => cursor.close(() => resolve()));
    client.release();
  });
});

describe("@pool/pg's own PgPool.query: misuse is a clear error at once, never a hang holding a lease", () => {
  it('a submittable, or a callback in place of values or options, rejects INVALID_OPTIONS and holds nothing', async () => {
    const pool = createPgPool({ ...connectionOf(postgres.server), maxPerNode: 1 });
    postgres.closeAfterAll(() => pool.close());
    const submitted = pool.query(new Cursor('SELECT 1') as never);
    await expect(submitted).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringContaining('pg-cursor') });
    const withCallback = (pool.query as unknown as (text: string, cb: () => void) => Promise<unknown>)('SELECT 1', () => undefined);
    await expect(withCallback).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringContaining('no callback') });
    // And a type error where it is written: a callback is not the values array.
    // @ts-expect-error PgPool.query takes no callback
    await expect(pool.query('SELECT 1', (error: unknown) => error)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    expect(pool.stats().leases).toBe(0);
    expect((await pool.query('SELECT 3 AS n')).rows[0]?.n).toBe(3);
  });
});

describe('reset on release: off by default, one switch away', () => {
  it('by default a session advisory lock and settings survive release (as pg.Pool); discard releases them', async () => {
    const plain = makePool({ max: 1 });
    const first = await plain.connect();
    await first.query('SELECT pg_advisory_lock(4242)');
    await first.query("SET application_name = 'kept'");
    first.release();
    const again = await plain.connect();
    expect((await again.query('SELECT pg_advisory_unlock(4242) AS released')).rows[0].released).toBe(true);
    expect((await again.query('SHOW application_name')).rows[0].application_name).toBe('kept');
    again.release();

    const discarding = makePool({ max: 1, resetOnRelease: 'discard' });
    const holder = await discarding.connect();
    await holder.query('SELECT pg_advisory_lock(4343)');
    await holder.query('BEGIN');
    holder.release();
    const next = await discarding.connect();
    const locks = await postgres.admin.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 4343");
    expect(locks.rows[0].n).toBe(0);
    expect((next as unknown as { getTransactionStatus(): string }).getTransactionStatus()).toBe('I');
    next.release();
  });

  it("resetOnRelease: 'rollback' rolls back a transaction left open; without it the next user is inside it", async () => {
    const plain = makePool({ max: 1 });
    const first = await plain.connect();
    await first.query('BEGIN');
    first.release();
    const same = await plain.connect();
    expect((same as unknown as { getTransactionStatus(): string }).getTransactionStatus()).toBe('T');
    await same.query('ROLLBACK');
    same.release();

    const rolling = makePool({ max: 1, resetOnRelease: 'rollback' });
    const opener = await rolling.connect();
    await opener.query('BEGIN');
    opener.release();
    const clean = await rolling.connect();
    expect((clean as unknown as { getTransactionStatus(): string }).getTransactionStatus()).toBe('I');
    clean.release();
  });
});

describe('switches and pg.Client settings', () => {
  it('passes pg.Client settings untouched: application_name only when given, statement_timeout as pg does', async () => {
    const name = uniqueAppName('compat-settings');
    const pool = makePool({ application_name: name, statement_timeout: 50 });
    await expect(pool.query('SELECT pg_sleep(1)')).rejects.toMatchObject({ code: '57014' });
    const seen = await postgres.admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [name]);
    expect(seen.rows[0].n).toBeGreaterThanOrEqual(0);
    const unnamed = makePool();
    expect((await unnamed.query('SHOW application_name')).rows[0].application_name).not.toBe('@pool/pg');
  });

  it('createRetry is off by default (one connect attempt) and on with the switch', async () => {
    let attempts = 0;
    class CountingClient extends pg.Client {
      override connect(callback?: unknown): never {
        attempts++;
        if (attempts < 3) {
          setImmediate(() => (callback as unknown as (error: Error) => void)(new Error(`refused #${attempts}`)));
          return undefined as never;
        }
        return super.connect(callback as never) as never;
      }
    }
    const plain = makePool({ Client: CountingClient as never });
    await expect(plain.connect()).rejects.toThrow('refused #1');
    expect(attempts).toBe(1);
    const retrying = makePool({ Client: CountingClient as never, createRetry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    const client = await retrying.connect();
    expect(attempts).toBe(3);
    client.release();
    expect(isPoolError(new Error('x'))).toBe(false);
  });

  it('a pool built from the same config as pg.Pool runs the same statements', async () => {
    const config = { ...connectionOf(postgres.server), max: 2 };
    const real = new pg.Pool(config);
    const facade = new Pool(config);
    try {
      const [a, b] = await Promise.all([real.query('SELECT $1::int * 2 AS n', [21]), facade.query('SELECT $1::int * 2 AS n', [21])]);
      expect(b.rows).toEqual(a.rows);
      expect(b.fields.map((field) => field.name)).toEqual(a.fields.map((field) => field.name));
    } finally {
      await Promise.all([real.end(), facade.end()]);
    }
  });
});
