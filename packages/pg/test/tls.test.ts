import { describe, expect, it } from 'vitest';
import { makeTestCertificates } from '@pool/testkit/tls';
import { createPgPool, isPoolError, type PgPool, type PgPoolOptions } from '@pool/pg';
import { connectionOf, startPostgresForFile, uniqueAppName, waitFor } from './helpers.js';

const certificates = makeTestCertificates();
const postgres = startPostgresForFile({ tls: { cert: certificates.cert, key: certificates.key } });

function makePool(options: Partial<PgPoolOptions>): PgPool {
  const pool = createPgPool({ ...connectionOf(postgres.server), applicationName: uniqueAppName('tls'), ...options });
  postgres.closeAfterAll(() => pool.close());
  return pool;
}

describe('TLS', () => {
  it('connects over verified TLS', async () => {
    const pool = makePool({ ssl: { ca: certificates.ca } });
    const result = await pool.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    expect(result.rows[0]).toEqual({ ssl: true });
  });

  it('refuses a server certificate it cannot verify', async () => {
    const pool = makePool({ ssl: true, createRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const error = await pool.query('SELECT 1').catch((caught: unknown) => caught);
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    expect(String((error as Error & { cause: { code?: string } }).cause.code)).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
  });

  it('cancels a query of a TLS connection and reuses the connection', async () => {
    const pool = makePool({ ssl: { ca: certificates.ca }, maxPerNode: 1 });
    const pid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    const controller = new AbortController();
    const running = pool.query('SELECT pg_sleep(30)', [], { signal: controller.signal }).catch((caught: unknown) => caught);
    await waitFor(async () => {
      const result = await postgres.admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [pid]);
      return result.rowCount === 1;
    }, 'the query to run');
    controller.abort();
    expect(isPoolError(await running, 'ABORTED')).toBe(true);
    await waitFor(async () => {
      const result = await postgres.admin.query('SELECT state FROM pg_stat_activity WHERE pid = $1', [pid]);
      return result.rows[0]?.state === 'idle';
    }, 'the backend to go idle', 5_000);
    expect((await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid).toBe(pid);
    expect(pool.stats().destroyed).toBe(0);
  });
});
