import { describe, expect, it } from 'vitest';
import { openProcessHolds } from '@pool/core';
import { createPgPool, isPoolError, type PgPool, type PgPoolOptions } from '@pool/pg';
import { invalidOptionsError } from '@pool/testkit';
import { rejection } from '@pool/testkit/expect';
import { connectionOf, startPostgresForFile, uniqueAppName } from './helpers.js';

const postgres = startPostgresForFile();

function makePool(options: Partial<PgPoolOptions> = {}): PgPool {
  const pool = createPgPool({ ...connectionOf(postgres.server), applicationName: uniqueAppName('call'), ...options });
  postgres.closeAfterAll(() => pool.close());
  return pool;
}

const invalidMessage = async (promise: Promise<unknown>): Promise<string> => {
  const error = await rejection(promise);
  if (!isPoolError(error, 'INVALID_OPTIONS')) throw new Error(`expected INVALID_OPTIONS, got ${String(error)}`);
  return error.message;
};

describe('unknown option names at createPgPool', () => {
  it.each([
    ['maxPerNod', 'maxPerNode'],
    ['statmentTimeoutMs', 'statementTimeoutMs'],
    ['lock_timout', 'lock_timeout'],
    ['conectionString', 'connectionString'],
  ])('refuses %s, naming the nearest known name %s', (name, nearest) => {
    const { message } = invalidOptionsError(() => createPgPool({ [name]: 1 } as PgPoolOptions));
    expect(message).toBe(`Unknown option ${name} (did you mean ${nearest}?)`);
  });

  it('refuses a name close to nothing without a guess', () => {
    const { message } = invalidOptionsError(() => createPgPool({ frobnicateEverything: true } as PgPoolOptions));
    expect(message).toBe('Unknown option frobnicateEverything');
  });

  it('refuses the same setting under both names', () => {
    const { message } = invalidOptionsError(() => createPgPool({ statementTimeoutMs: 5, statement_timeout: 6 } as PgPoolOptions));
    expect(message).toMatch(/^Invalid option statement_timeout: .*statementTimeoutMs/);
  });

  it("passes pg.Client settings given at top level to every client, as pg.Pool does", async () => {
    const pool = makePool({ lock_timeout: 1234, idle_in_transaction_session_timeout: 4321 });
    const { rows } = await pool.query<{ lock: string; idle: string }>(
      "SELECT current_setting('lock_timeout') AS lock, current_setting('idle_in_transaction_session_timeout') AS idle",
    );
    expect(rows[0]).toEqual({ lock: '1234ms', idle: '4321ms' });
  });

  it('takes application_name and statement_timeout under pg\'s names too', async () => {
    const pool = createPgPool({ ...connectionOf(postgres.server), application_name: 'pg-named', statement_timeout: 777 } as PgPoolOptions);
    postgres.closeAfterAll(() => pool.close());
    const { rows } = await pool.query<{ app: string; st: string }>(
      "SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS st",
    );
    expect(rows[0]).toEqual({ app: 'pg-named', st: '777ms' });
  });
});

describe('per-call timeouts are validated like pool options', () => {
  const bad: [string, unknown][] = [['NaN', Number.NaN], ['a string', '50'], ['negative', -1]];

  it.each(bad)('query rejects acquireTimeoutMs %s with INVALID_OPTIONS naming it', async (_, value) => {
    const pool = makePool();
    expect(await invalidMessage(pool.query('SELECT 1', [], { acquireTimeoutMs: value as number }))).toMatch(/^Invalid option acquireTimeoutMs/);
  });

  it.each(bad)('query rejects queryTimeoutMs %s with INVALID_OPTIONS naming it', async (_, value) => {
    const pool = makePool();
    expect(await invalidMessage(pool.query('SELECT 1', [], { queryTimeoutMs: value as number }))).toMatch(/^Invalid option queryTimeoutMs/);
  });

  it.each(bad)('acquire and use reject timeoutMs %s with INVALID_OPTIONS naming it', async (_, value) => {
    const pool = makePool();
    expect(await invalidMessage(pool.acquire({ timeoutMs: value as number }))).toMatch(/^Invalid option timeoutMs/);
    expect(await invalidMessage(pool.use(() => 1, { timeoutMs: value as number }))).toMatch(/^Invalid option timeoutMs/);
  });

  it.each(bad)('transaction rejects acquireTimeoutMs %s with INVALID_OPTIONS naming it', async (_, value) => {
    const pool = makePool();
    expect(await invalidMessage(pool.transaction(() => 1, { acquireTimeoutMs: value as number }))).toMatch(/^Invalid option acquireTimeoutMs/);
  });

  it('query refuses timeoutMs, which would read as a bound on the whole call', async () => {
    const pool = makePool();
    const options = { timeoutMs: 50 } as unknown as { queryTimeoutMs: number };
    expect(await invalidMessage(pool.query('SELECT 1', [], options))).toMatch(/^Invalid option timeoutMs: .*queryTimeoutMs/);
  });

  it('Infinity means no deadline: the query runs, no timer warning', async () => {
    const pool = makePool();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const result = await pool.query('SELECT pg_sleep(0.05), 1 AS one', [], { queryTimeoutMs: Infinity, acquireTimeoutMs: Infinity });
      expect(result.rows[0]).toMatchObject({ one: 1 });
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((warning) => warning.name === 'TimeoutOverflowWarning')).toEqual([]);
  });
});

describe('acquire() and use() honour timeoutMs', () => {
  it('a wait behind a held lease ends with ACQUIRE_TIMEOUT after timeoutMs, not the pool acquireTimeoutMs', async () => {
    const pool = makePool({ maxPerNode: 1, acquireTimeoutMs: 5_000 });
    const held = await pool.acquire();
    try {
      const started = Date.now();
      const error = await rejection(pool.acquire({ timeoutMs: 200 }));
      const waited = Date.now() - started;
      expect(isPoolError(error, 'ACQUIRE_TIMEOUT')).toBe(true);
      expect(waited).toBeGreaterThanOrEqual(150);
      expect(waited).toBeLessThan(3_000);
      const useStarted = Date.now();
      const useError = await rejection(pool.use(() => 'never', { timeoutMs: 200 }));
      expect(isPoolError(useError, 'ACQUIRE_TIMEOUT')).toBe(true);
      expect(Date.now() - useStarted).toBeLessThan(3_000);
    } finally {
      await held.release();
    }
    // The pool is whole again: the one connection serves the next caller.
    expect((await pool.use((client) => client.query('SELECT 1 AS one'))).rows[0]).toEqual({ one: 1 });
  });

  it('timeoutMs wins over acquireTimeoutMs when both are given', async () => {
    const pool = makePool({ maxPerNode: 1 });
    const held = await pool.acquire();
    try {
      const started = Date.now();
      const error = await rejection(pool.acquire({ timeoutMs: 100, acquireTimeoutMs: 10_000 }));
      expect(isPoolError(error, 'ACQUIRE_TIMEOUT')).toBe(true);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await held.release();
    }
  });
});

describe('process holds', () => {
  it('query, transaction, acquire and use hold the process while pending and let go once settled', async () => {
    const pool = makePool({ queryTimeoutMs: 0 });
    const before = openProcessHolds();
    const pending = [
      pool.query('SELECT pg_sleep(0.1)'),
      pool.query('SELECT pg_sleep(0.1)', [], { queryTimeoutMs: 5_000 }),
      pool.transaction((client) => client.query('SELECT pg_sleep(0.1)')),
      pool.use((client) => client.query('SELECT pg_sleep(0.1)')),
      pool.acquire().then((lease) => lease.release()),
    ];
    expect(openProcessHolds()).toBeGreaterThanOrEqual(before + pending.length);
    await Promise.all(pending);
    expect(openProcessHolds()).toBe(before);
    const failed = pool.query('SELECT no_such_column');
    expect(openProcessHolds()).toBeGreaterThan(before);
    await rejection(failed);
    expect(openProcessHolds()).toBe(before);
  });
});
