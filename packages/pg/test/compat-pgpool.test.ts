import { EventEmitter } from 'node:events';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isPoolError } from '@pool/pg';
import { Pool } from '@pool/pg/compat';
import { poolFor, refusedPort, scriptedClient, silentServer, sleep } from './compat-helpers.js';
import { startPostgresForFile } from './helpers.js';

// pg-pool's own public-API tests (packages/pg-pool/test of node-postgres), rewritten in our words,
// run against the facade and a real server. Tests of pg-pool's internals (_clients, _ending) are left out.
const postgres = startPostgresForFile();
const makePool = poolFor(postgres);

const connectAsync = (pool: Pool) =>
  new Promise<{ error: unknown; client: pg.PoolClient | undefined; done: (release?: unknown) => void }>((resolve) => {
    pool.connect((error, client, done) => resolve({ error, client, done }));
  });

describe('pg-pool suite: pool basics (index)', () => {
  it('works unconfigured with callbacks, passes client settings to clients, does not change the given options', async () => {
    const options = { max: 10, binary: true };
    const pool = makePool(options);
    const { error, client, done } = await connectAsync(pool);
    expect(error).toBeUndefined();
    expect((client as unknown as { binary: boolean }).binary).toBe(true);
    const res = await client!.query('SELECT NOW()');
    done();
    expect(res.rows).toHaveLength(1);
    expect(options).toEqual({ max: 10, binary: true });
    await new Promise<void>((resolve) => pool.end(() => resolve()));
  });

  it('runs queries with callbacks, with and without parameters; returns undefined in callback form', async () => {
    const pool = makePool();
    const plain = await new Promise<pg.QueryResult>((resolve, reject) => {
      const returned = pool.query('SELECT 1 AS num', (error, res) => (error ? reject(error) : resolve(res)));
      expect(returned).toBeUndefined();
    });
    expect(plain.rows[0]).toEqual({ num: 1 });
    const withValues = await new Promise<pg.QueryResult>((resolve, reject) => {
      pool.query('SELECT $1::text AS name', ['brianc'], (error, res) => (error ? reject(error) : resolve(res)));
    });
    expect(withValues.rows[0]).toEqual({ name: 'brianc' });
    expect(pool.connect(() => undefined)).toBeUndefined();
    expect(pool.end(() => undefined)).toBeUndefined();
  });

  it('passes connection errors to the callback without a client and leaves no dead client counted', async () => {
    const pool = makePool({ port: await refusedPort() });
    const result = await new Promise<{ error: unknown; res: unknown }>((resolve) => {
      pool.query('SELECT $1::text AS name', ['brianc'], (error, res) => resolve({ error, res }));
    });
    expect(result.res).toBeUndefined();
    expect(result.error).toBeInstanceOf(Error);
    expect(pool.totalCount).toBe(0);
    const { error, client, done } = await connectAsync(pool);
    expect(error).toBeInstanceOf(Error);
    expect(client).toBeUndefined();
    expect(typeof done).toBe('function');
  });

  it("removes a client that errors in the background and emits 'error' with err.client set", async () => {
    const pool = makePool();
    const { client, done } = await connectAsync(pool);
    done();
    (client as unknown as { testString: string }).testString = 'foo';
    const emitted = new Promise<Error & { client?: { testString?: string } }>((resolve) => pool.once('error', resolve));
    setTimeout(() => client!.emit('error', new Error('on purpose')), 10);
    const error = await emitted;
    expect(error.message).toBe('on purpose');
    expect(error.client?.testString).toBe('foo');
    expect(pool.totalCount).toBe(0);
  });

  it('never calls the connect callback synchronously', async () => {
    const pool = makePool();
    const first = await pool.connect();
    first.release();
    await new Promise<void>((resolve) => setImmediate(resolve));
    let isCalled = false;
    const second = new Promise<void>((resolve) => {
      pool.connect((error, client) => {
        isCalled = true;
        client?.release();
        resolve();
      });
    });
    expect(isCalled).toBe(false);
    await second;
  });

  it('with promises: connects, queries, pools 30 checkouts over 9 clients (poolSize), runs query configs', async () => {
    const pool = makePool({ poolSize: 9 } as never);
    const results = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const client = await pool.connect();
        const res = await client.query('SELECT $1::text AS name', ['hi']);
        client.release();
        return res;
      }),
    );
    expect(results).toHaveLength(30);
    expect(pool.totalCount).toBe(9);
    const direct = await Promise.all(Array.from({ length: 30 }, () => pool.query({ text: 'SELECT $1::text AS name', values: ['hi'] })));
    expect(direct.every((res) => res.rows[0].name === 'hi')).toBe(true);
  });

  it('recovers from query errors: each failed query removes its client, as pg-pool does', async () => {
    const pool = makePool();
    const errors = await Promise.all(Array.from({ length: 30 }, () => pool.query('SELECT asldkfjasldkf').catch((error: unknown) => error)));
    expect(errors.every((error) => error instanceof Error)).toBe(true);
    expect(pool.totalCount).toBe(0);
    expect(pool.idleCount).toBe(0);
    expect((await pool.query('SELECT $1::text AS name', ['hi'])).rows).toEqual([{ name: 'hi' }]);
  });

  it("a function as pool.query's first argument calls it back with an error", async () => {
    const pool = makePool();
    const error = await new Promise<unknown>((resolve) => (pool.query as unknown as (cb: (e: unknown) => void) => void)(resolve));
    expect((error as Error).message).toContain('Passing a function as the first parameter');
  });
});

describe('pg-pool suite: ending', () => {
  it('ends unused, with a promise, and with clients', async () => {
    await new Promise<void>((resolve) => makePool().end(() => resolve()));
    await makePool().end();
    const pool = makePool();
    expect((await pool.query('SELECT $1::text AS name', ['brianc'])).rows[0].name).toBe('brianc');
    await pool.end();
    expect(pool.ended).toBe(true);
  });

  it('lets a query issued before end() finish', async () => {
    const pool = makePool();
    const query = pool.query('SELECT $1::text AS name', ['brianc']);
    await pool.end();
    expect((await query).rows[0].name).toBe('brianc');
  });

  it('finishes all 20 queries queued on 10 clients before end() (pg-pool finishes 10 and leaves 10 hanging)', async () => {
    const pool = makePool({ max: 10 });
    const queries = Array.from({ length: 20 }, (_, index) => pool.query('SELECT $1::text AS name', [`brianc${index + 1}`]));
    const ended = pool.end();
    const results = await Promise.all(queries);
    expect(results.map((res) => res.rows[0].name)).toEqual(Array.from({ length: 20 }, (_, index) => `brianc${index + 1}`));
    await ended;
    expect(pool.totalCount).toBe(0);
  });

  it('refuses everything after end(), with promises and callbacks', async () => {
    const pool = makePool();
    await pool.end();
    const squash = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: Error) => error.message);
    expect(await squash(pool.connect())).toBe('Cannot use a pool after calling end on the pool');
    expect(await squash(pool.query('SELECT NOW()'))).toBe('Cannot use a pool after calling end on the pool');
    expect(await squash(pool.end())).toBe('Called end on pool more than once');
    const viaCallbacks = await new Promise<unknown[]>((resolve) => {
      pool.query('SELECT 1', (queryError) => {
        pool.connect((connectError) => {
          (pool.end as unknown as (cb: (e: unknown) => void) => void)((endError) => resolve([queryError, connectError, endError]));
        });
      });
    });
    expect(viaCallbacks.every((error) => error instanceof Error)).toBe(true);
  });
});

describe('pg-pool suite: error handling', () => {
  it('completes failing queries without dying; release twice throws every time', async () => {
    const pool = makePool();
    const errors = await Promise.all(Array.from({ length: 5 }, () => pool.query("SELECT 'asd'+1").then(() => undefined, (error: unknown) => error)));
    expect(errors.filter(Boolean)).toHaveLength(5);
    const client = await pool.connect();
    client.release();
    expect(() => client.release()).toThrow('Release called on client which has already been released to the pool.');
    expect(() => client.release()).toThrow();
    const { done } = await connectAsync(pool);
    done();
    expect(() => done()).toThrow();
  });

  it('an idle client that errors is removed at once; an in-use one stays with its holder', async () => {
    const pool = makePool();
    const client = await pool.connect();
    expect([pool.totalCount, pool.waitingCount, pool.idleCount]).toEqual([1, 0, 0]);
    // In use: the holder hears it, the pool does not, the client stays counted.
    let poolError: Error | undefined;
    const onPoolError = (error: Error) => (poolError = error);
    pool.on('error', onPoolError);
    let clientError: Error | undefined;
    client.once('error', (error: Error) => (clientError = error));
    client.emit('error', new Error('in use'));
    expect(clientError?.message).toBe('in use');
    expect(poolError).toBeUndefined();
    expect([pool.idleCount, pool.totalCount]).toEqual([0, 1]);
    pool.off('error', onPoolError);
    client.release();

    const idle = await pool.connect();
    idle.release();
    await new Promise<void>((resolve) => process.nextTick(resolve));
    pool.once('error', onPoolError);
    idle.once('error', (error: Error) => (clientError = error));
    idle.emit('error', new Error('expected'));
    expect(clientError?.message).toBe('expected');
    expect(poolError?.message).toBe('expected');
    expect([pool.idleCount, pool.totalCount]).toEqual([0, 0]);
  });

  it('keeps working and providing new clients after 20 failed queries on max 1', async () => {
    const pool = makePool({ max: 1 });
    let failures = 0;
    for (let i = 0; i < 20; i++) await pool.query('invalid sql').catch(() => failures++);
    expect(failures).toBe(20);
    expect(pool.idleCount).toBe(0);
    expect((await pool.query('SELECT $1::text AS name', ['brianc'])).rows).toEqual([{ name: 'brianc' }]);
  });

  it('continues with queued checkouts after a connection failure', async () => {
    const pool = makePool({ max: 1, port: await refusedPort() });
    const [first, second] = await Promise.all([connectAsync(pool), connectAsync(pool)]);
    expect(first.error).toBeInstanceOf(Error);
    expect(second.error).toBeInstanceOf(Error);
  });

  it('a query whose client dies mid-flight fails; the pool goes on', async () => {
    const pool = makePool({ max: 1, application_name: 'compat-midflight' });
    pool.on('error', () => undefined);
    // Settled into a value at once: the failure may land before the terminate's own answer.
    const sleeping = pool.query('SELECT pg_sleep(5)').then(() => undefined, (error: unknown) => error);
    await sleep(300);
    await postgres.admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'compat-midflight'");
    expect(await sleeping).toBeInstanceOf(Error);
    expect((await pool.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
  });
});

describe('pg-pool suite: events', () => {
  it("'error' without a listener does not throw", () => {
    expect(() => makePool().emit('error', new Error('problem'))).not.toThrow();
  });

  it("emits 'connect' before the callback, and only for a successful connection", async () => {
    const pool = makePool();
    let emitted: unknown;
    pool.on('connect', (client) => (emitted = client));
    const { client, done } = await connectAsync(pool);
    done();
    expect(client).toBe(emitted);

    const failing = makePool({
      Client: function MockClient() {
        return Object.assign(new EventEmitter(), {
          connect: (cb: (error: Error) => void) => process.nextTick(() => cb(new Error('bad news'))),
          end: (cb?: () => void) => cb?.(),
        });
      } as never,
    });
    failing.on('connect', () => {
      throw new Error('should never get here');
    });
    await expect(failing.connect()).rejects.toThrow('bad news');
  });

  it("emits 'acquire' and 'release' for every checkout, connect() and query() alike", async () => {
    const pool = makePool();
    let acquired = 0;
    let released = 0;
    pool.on('acquire', (client) => {
      expect(client).toBeTruthy();
      acquired++;
    });
    pool.on('release', (error, client) => {
      expect(error instanceof Error).toBe(false);
      expect(client).toBeTruthy();
      released++;
    });
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      work.push(connectAsync(pool).then(({ done }) => done()));
      work.push(pool.query('SELECT now()'));
    }
    await Promise.all(work);
    expect([acquired, released]).toEqual([20, 20]);
  });

  it("emits 'release' with the error a client was released with", async () => {
    const pool = makePool();
    const { client, done } = await connectAsync(pool);
    const releaseError = new Error('problem');
    const seen = new Promise<[unknown, unknown]>((resolve) => pool.once('release', (error, released) => resolve([error, released])));
    done(releaseError);
    expect(await seen).toEqual([releaseError, client]);
  });

  it("emits 'error' with the client when an idle client hits an error", async () => {
    const pool = makePool();
    const client = await pool.connect();
    client.release();
    const seen = new Promise<[Error, unknown]>((resolve) => pool.once('error', (error, errored) => resolve([error, errored])));
    setImmediate(() => client.emit('error', new Error('problem')));
    const [error, errored] = await seen;
    expect(error.message).toBe('problem');
    expect(errored).toBe(client);
  });
});

describe('pg-pool suite: sizing, min and maxUses', () => {
  it('max 1: one client, reused by a waiter; one query at a time', async () => {
    const pool = makePool({ max: 1 });
    expect(pool.waitingCount).toBe(0);
    const client = await pool.connect();
    const wait = pool.connect();
    expect(pool.waitingCount).toBe(1);
    client.release();
    const client2 = await wait;
    expect(client2).toBe(client);
    client2.release();
    const text = 'SELECT COUNT(*)::int AS counts FROM pg_stat_activity WHERE query = $1';
    const counts = await Promise.all(Array.from({ length: 20 }, () => pool.query(text, [text])));
    expect(counts.map((res) => res.rows[0].counts)).toEqual(Array.from({ length: 20 }, () => 1));
  });

  it('does not remove idle clients at or below min; does above it; maxUses and lifetime still apply', async () => {
    const atMin = makePool({ max: 1, min: 1, idleTimeoutMillis: 10 });
    (await atMin.connect()).release();
    await sleep(40);
    expect(atMin.idleCount).toBe(1);

    const expended = makePool({ max: 1, min: 1, idleTimeoutMillis: 10, maxUses: 1 });
    (await expended.connect()).release();
    await sleep(40);
    expect(expended.idleCount).toBe(0);

    const two = makePool({ max: 2, min: 2, idleTimeoutMillis: 10 });
    const [a, b] = [await two.connect(), await two.connect()];
    a.release();
    await sleep(30);
    b.release();
    await sleep(30);
    expect(two.idleCount).toBe(2);

    const aboveMin = makePool({ max: 2, min: 1, idleTimeoutMillis: 10 });
    const [c, d] = [await aboveMin.connect(), await aboveMin.connect()];
    c.release();
    await sleep(30);
    d.release();
    await sleep(30);
    expect(aboveMin.idleCount).toBe(1);

    const together = makePool({ max: 2, min: 1, idleTimeoutMillis: 10 });
    const [e, f] = [await together.connect(), await together.connect()];
    e.release();
    f.release();
    await sleep(40);
    expect(together.idleCount).toBe(1);
  });

  it('min creates no client by itself (pg documents min as a floor for idle reaping)', async () => {
    const pool = makePool({ min: 3 });
    await sleep(100);
    expect(pool.totalCount).toBe(0);
  });

  it('maxUses 2: the second checkout is the same client, released it is closed; the third is new', async () => {
    const pool = makePool({ maxUses: 2 });
    const client = await pool.connect();
    client.release();
    const client2 = await pool.connect();
    expect(client2).toBe(client);
    client2.release();
    expect(pool.totalCount).toBe(0);
    const client3 = await pool.connect();
    expect(client3).not.toBe(client2);
    client3.release();
  });
});

describe('pg-pool suite: releasing clients', () => {
  it('removes a client that cannot be queried, and one that is ending, right at release', async () => {
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    expect([pool.totalCount, pool.idleCount]).toEqual([1, 0]);
    (client as unknown as { connection: { end(): void } }).connection.end();
    await new Promise((resolve) => client.once('error', resolve));
    expect([pool.totalCount, pool.idleCount]).toEqual([1, 0]);
    client.release();
    expect([pool.totalCount, pool.idleCount]).toEqual([0, 0]);
    expect((await pool.query('SELECT NOW()')).rows).toHaveLength(1);

    const ending = await pool.connect();
    void (ending as unknown as pg.Client).end();
    ending.release();
    expect([pool.totalCount, pool.idleCount]).toEqual([0, 0]);
    expect((await pool.query('SELECT NOW()')).rows).toHaveLength(1);
  });

  it('release(true) drops totalCount at once, as the docs show (await client.release(true))', async () => {
    const pool = makePool();
    const client = await pool.connect();
    expect(pool.totalCount).toBe(1);
    await client.release(true);
    expect(pool.totalCount).toBe(0);
  });
});

describe('pg-pool suite: lifecycle hooks (onConnect)', () => {
  it('runs onConnect once per new client, sync or async, and from pool.query too', async () => {
    const pool = makePool({
      max: 2,
      onConnect: async (client) => {
        const res = await client.query('SELECT 1 AS num');
        const marked = client as unknown as { hookCount?: number; hookResult?: number };
        marked.hookCount = (marked.hookCount ?? 0) + 1;
        marked.hookResult = res.rows[0].num;
      },
    });
    expect((await pool.query('SELECT $1::text AS name', ['brianc'])).rows[0].name).toBe('brianc');
    const client = (await pool.connect()) as unknown as pg.PoolClient & { hookCount: number; hookResult: number };
    expect([client.hookCount, client.hookResult]).toEqual([1, 1]);
    const other = await pool.connect();
    expect(other).not.toBe(client);
    client.release();
    other.release();
    const again = (await pool.connect()) as unknown as { hookCount: number; release(): void };
    expect(again.hookCount).toBe(1);
    again.release();
  });

  it('a throwing or rejecting hook fails that checkout with its own error, leaves nothing counted, and the pool recovers', async () => {
    let failures = 0;
    const pool = makePool({
      max: 2,
      onConnect: () => {
        if (failures < 10) {
          failures++;
          throw new Error('connect hook error');
        }
      },
    });
    for (let i = 0; i < 10; i++) await expect(pool.connect()).rejects.toThrow('connect hook error');
    expect([pool.totalCount, pool.idleCount]).toEqual([0, 0]);
    const [a, b] = [await pool.connect(), await pool.connect()];
    expect((await a.query('SELECT 2 AS n')).rows[0].n).toBe(2);
    expect(pool.totalCount).toBe(2);
    a.release();
    b.release();

    const rejecting = makePool({ onConnect: async (client) => void (await client.query('SELECT INVALID HERE')) });
    await expect(rejecting.connect()).rejects.toThrow(/invalid/);
  });
});

describe('pg-pool suite: connection timeout', () => {
  it('times out a connect that hangs: callback and promise forms, 15 in a row; the error reads as pg-pool and is ACQUIRE_TIMEOUT', async () => {
    const silent = await silentServer();
    try {
      const pool = makePool({ connectionTimeoutMillis: 10, port: silent.port, host: '127.0.0.1' });
      const { error, client } = await connectAsync(pool);
      expect((error as Error).message).toContain('timeout');
      expect(isPoolError(error, 'ACQUIRE_TIMEOUT')).toBe(true);
      expect(client).toBeUndefined();
      expect(pool.idleCount).toBe(0);
      const many = makePool({ connectionTimeoutMillis: 1, port: silent.port, host: '127.0.0.1' });
      let failures = 0;
      for (let i = 0; i < 15; i++) await many.connect().catch(() => failures++);
      expect(failures).toBe(15);
    } finally {
      await silent.close();
    }
  });

  it('times out a checkout waiting for a busy client with "timeout exceeded when trying to connect"; recovers after', async () => {
    const pool = makePool({ connectionTimeoutMillis: 100, max: 1 });
    const held = await pool.connect();
    const { error } = await connectAsync(pool);
    expect((error as Error).message).toContain('timeout exceeded when trying to connect');
    expect(isPoolError(error, 'ACQUIRE_TIMEOUT')).toBe(true);
    const queryError = await new Promise<unknown>((resolve) => pool.query('SELECT now()', (e, res) => resolve(e ?? res)));
    expect(queryError).toBeInstanceOf(Error);
    held.release();
    expect((await pool.query('SELECT $1::text AS name', ['brianc'])).rows).toHaveLength(1);
  });

  it('a timeout does not break the next pending checkout', async () => {
    const pool = makePool({ connectionTimeoutMillis: 200, max: 1 });
    const outer = await pool.connect();
    const timedOut = connectAsync(pool);
    const later = sleep(100).then(() => connectAsync(pool));
    expect((await timedOut).error).toBeInstanceOf(Error);
    outer.release();
    const { error, done } = await later;
    expect(error).toBeUndefined();
    done();
  });

  it('a failed connect goes to its checkout as is, and the next one works (custom Client)', async () => {
    const connectionFailure = new Error('Temporary connection failure');
    const Client = scriptedClient([(_real, cb) => setTimeout(() => cb(connectionFailure), 100)]);
    const pool = makePool({ Client: Client as never, connectionTimeoutMillis: 1000, max: 1 });
    const { error } = await connectAsync(pool);
    expect(error).toBe(connectionFailure);
    expect((await pool.query('SELECT $1::text AS name', ['brianc'])).rows).toHaveLength(1);
  });

  it('does not keep a client that connects after the timeout', async () => {
    const Client = scriptedClient([(real, cb) => setTimeout(() => real(cb), 200)]);
    const pool = makePool({ Client: Client as never, connectionTimeoutMillis: 100, max: 1 });
    const { error, client } = await connectAsync(pool);
    expect((error as Error).message).toContain('timeout');
    expect(client).toBeUndefined();
    expect([pool.totalCount, pool.idleCount]).toEqual([0, 0]);
    await sleep(200);
    expect([pool.totalCount, pool.idleCount]).toEqual([0, 0]);
  });
});

describe('pg-pool suite: idle timeout and lifetime', () => {
  it("closes an idle client; inside 'remove' the counts are already down", async () => {
    const pool = makePool({ idleTimeoutMillis: 10 });
    const removed = new Promise<number[]>((resolve) => pool.on('remove', () => resolve([pool.idleCount, pool.totalCount])));
    void pool.query('SELECT NOW()');
    expect(await removed).toEqual([0, 0]);
  });

  it('times out one client while another is removed', async () => {
    const pool = makePool({ idleTimeoutMillis: 10 });
    const [a, b] = [await pool.connect(), await pool.connect()];
    let removals = 0;
    const bothGone = new Promise<void>((resolve) =>
      pool.on('remove', () => {
        expect(pool.totalCount).toBe(removals === 0 ? 1 : 0);
        if (++removals === 2) resolve();
      }),
    );
    a.release();
    b.release(new Error());
    await Promise.race([bothGone, sleep(5_000).then(() => Promise.reject(new Error('idle timeout failed to occur')))]);
  });

  it('removes idle clients and recreates them; counts follow synchronously', async () => {
    const pool = makePool({ idleTimeoutMillis: 1 });
    for (let i = 0; i < 20; i++) {
      const query = pool.query('SELECT NOW()');
      expect([pool.idleCount, pool.totalCount]).toEqual([0, 1]);
      await query;
      await sleep(5);
      expect([pool.idleCount, pool.totalCount]).toEqual([0, 0]);
    }
  });

  it('does not time out clients in use', async () => {
    const pool = makePool({ idleTimeoutMillis: 1 });
    for (let i = 0; i < 10; i++) {
      const client = await pool.connect();
      expect([pool.totalCount, pool.idleCount]).toEqual([1, 0]);
      await sleep(10);
      await client.query('SELECT NOW()');
      client.release();
      expect([pool.idleCount, pool.totalCount]).toEqual([1, 1]);
    }
  });

  it('maxLifetimeSeconds removes an idle client, and a busy one once its work is done', async () => {
    const idle = makePool({ maxLifetimeSeconds: 1 });
    const idleRemoved = new Promise<number[]>((resolve) => idle.on('remove', () => resolve([idle.expiredCount, idle.totalCount])));
    void idle.query('SELECT NOW()');

    const busy = makePool({ maxLifetimeSeconds: 1 });
    const query = busy.query('SELECT pg_sleep(1.4)');
    expect([busy.expiredCount, busy.totalCount]).toEqual([0, 1]);
    await sleep(1_150);
    expect(busy.expiredCount).toBe(1);
    await query;
    expect([busy.expiredCount, busy.totalCount]).toEqual([0, 0]);
    await busy.query('SELECT NOW()');
    expect([busy.expiredCount, busy.totalCount]).toEqual([0, 1]);
    expect(await idleRemoved).toEqual([0, 0]);
  });
});

describe('pg-pool suite: bring your own promise, logging, connection strings, verify', () => {
  class OwnPromise<T> extends Promise<T> {}

  it('uses the supplied Promise for connect, query and end, errors included', async () => {
    const pool = makePool({ Promise: OwnPromise as PromiseConstructor });
    const connecting = pool.connect();
    expect(connecting).toBeInstanceOf(OwnPromise);
    (await connecting).release();
    const querying = pool.query('SELECT NOW()');
    expect(querying).toBeInstanceOf(OwnPromise);
    await querying;
    const ending = pool.end();
    expect(ending).toBeInstanceOf(OwnPromise);
    await ending;

    const refused = makePool({ Promise: OwnPromise as PromiseConstructor, port: await refusedPort() });
    const failing = [refused.connect(), (refused.query as unknown as () => Promise<unknown>)()];
    for (const promise of failing) expect(promise).toBeInstanceOf(OwnPromise);
    const outcomes = await Promise.allSettled(failing);
    expect(outcomes.map((outcome) => outcome.status === 'rejected' && outcome.reason instanceof Error)).toEqual([true, true]);
    await refused.end();
    const again = refused.end();
    expect(again).toBeInstanceOf(OwnPromise);
    await expect(again).rejects.toThrow('Called end on pool more than once');
  });

  it('logs to the supplied log function', async () => {
    const messages: string[] = [];
    const pool = makePool({ log: (message: string) => messages.push(message) } as never);
    await pool.query('SELECT NOW()');
    expect(messages.length).toBeGreaterThan(0);
  });

  it('hands connectionString to the Client it is given', async () => {
    const connectionString = 'postgres://foo:bar@baz:1234/xur';
    let seen: string | undefined;
    const pool = new Pool({
      connectionString,
      Client: function FakeClient(args: { connectionString?: string }) {
        seen = args.connectionString;
        return { connect: (cb: (error: Error) => void) => cb(new Error('testing')), on: () => undefined };
      } as never,
    });
    await expect(pool.connect()).rejects.toThrow('testing');
    expect(seen).toBe(connectionString);
    await pool.end();
  });

  it('verify(client, cb) vets each new client; its error fails the checkout', async () => {
    const pool = makePool({ verify: (_client: unknown, cb: (error?: Error) => void) => cb(new Error('nope')) } as never);
    const { error } = await connectAsync(pool);
    expect((error as Error).message).toBe('nope');
    expect(pool.totalCount).toBe(0);
  });
});

describe('pg-pool suite: a socket closing in the background', () => {
  it('leaves the pool usable: the idle client whose socket ended is replaced', async () => {
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    await client.query('SELECT NOW()');
    client.release();
    (client as unknown as { connection: { stream: { end(): void } } }).connection.stream.end();
    for (let i = 0; i < 4; i++) expect((await pool.query('SELECT NOW()')).rows).toHaveLength(1);
  });

  it('a checkout handed the only idle client just as it errors gets a new client', async () => {
    const pool = makePool({ max: 1 });
    pool.on('error', () => undefined);
    const first = await pool.connect();
    first.release();
    const next = new Promise<pg.PoolClient>((resolve, reject) => pool.connect((error, client) => (error ? reject(error) : resolve(client!))));
    first.emit('error', new Error('connection reset'));
    const second = await next;
    expect(second).not.toBe(first);
    expect((await second.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
    second.release();
  });
});
