import { describe, expect, it } from 'vitest';
import { createPgPool, type PgPoolOptions } from '@pool/pg';
import { Pool } from '@pool/pg/compat';
import { invalidOptionsError } from '@pool/testkit';

const invalidPgOptions = (options: PgPoolOptions): Error => invalidOptionsError(() => createPgPool(options));

describe('option validation', () => {
  it.each([
    [{ statementTimeoutMs: -1 }, 'statementTimeoutMs', '-1', 'milliseconds >= 0'],
    [{ queryTimeoutMs: Number.NaN }, 'queryTimeoutMs', 'NaN', 'finite'],
    [{ cancelTimeoutMs: '5' as unknown as number }, 'cancelTimeoutMs', '"5"', 'number'],
    [{ resetOnRelease: 'always' as 'discard' }, 'resetOnRelease', '"always"', "'rollback' or 'discard'"],
    [{ nodes: [] }, 'nodes', 'an array of 0', 'non-empty array'],
    [{ nodes: [{ id: 'a' }, { id: 'a' }] }, 'nodes[1].id', '"a"', 'unique'],
    [{ nodes: [{ id: 'a', role: 'leader' as 'primary' }] }, 'nodes[0].role', '"leader"', "'primary' or 'replica'"],
    [{ nodes: [{ id: 'r', role: 'replica' as const }] }, 'nodes', '"1 replica(s)"', "at least one node of role 'primary'"],
    [{ port: 70_000 }, 'port', '70000', '1 to 65535'],
    [{ nodes: [{ id: '' }] }, 'nodes[0].id', '""', 'non-empty string'],
    [{ applicationName: 5 as unknown as string }, 'applicationName', '5', 'a string'],
    [{ maxLeasesPerConnection: 4 }, 'maxLeasesPerConnection', '4', 'one statement at a time'],
  ])('rejects %j naming the option, the value and the rule', (options, option, value, rule) => {
    const { message } = invalidPgOptions(options as PgPoolOptions);
    expect(message.startsWith(`Invalid option ${option}: got`)).toBe(true);
    expect(message).toContain(`got ${value}`);
    expect(message).toContain(rule);
  });

  it('never echoes a password or connection string in its message', () => {
    const secret = 'hunter2-very-secret';
    const badUrl = invalidPgOptions({ connectionString: `postgres://me:${secret}@[::1:5432/db` });
    expect(badUrl.message).toMatch(/connectionString/);
    expect(`${badUrl.message}${badUrl.stack}`).not.toContain(secret);
    const badPassword = invalidPgOptions({ password: 12345 as unknown as string });
    expect(badPassword.message).toMatch(/password/);
    expect(badPassword.message).not.toContain('12345');
  });

  it('passes pool options to core, which validates them too', () => {
    expect(invalidPgOptions({ maxPerNode: 0 }).message).toMatch(/maxPerNode/);
  });

  it('the compat facade takes a custom Client class, and refuses a Client that is not one by name', () => {
    expect(() => new Pool({ Client: 'pg.Client' as never })).toThrow(/Client/);
  });

  it('creates lazily: no connection is attempted until work arrives', async () => {
    const pool = createPgPool({ host: '127.0.0.1', port: 1, user: 'nobody' });
    expect(pool.stats().total).toBe(0);
    expect(pool.nodes).toEqual([{ id: 'default', role: 'primary', host: '127.0.0.1', port: 1, database: 'nobody' }]);
    await pool.close();
  });
});

describe('pool name', () => {
  it("defaults to the primary's database name, and name overrides it", async () => {
    const pool = createPgPool({ host: '127.0.0.1', port: 1, user: 'nobody', database: 'orders' });
    const named = createPgPool({ host: '127.0.0.1', port: 1, user: 'nobody', database: 'orders', name: 'orders-primary' });
    expect(pool.stats().name).toBe('orders');
    expect(named.stats().name).toBe('orders-primary');
    await Promise.all([pool.close(), named.close()]);
  });
});
