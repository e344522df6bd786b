import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresServer, type PostgresServer } from '@pool/testkit/pg';
import { createPgPool, type PgPool, type PgPoolOptions } from '@pool/pg';
import { uniqueAppName } from './helpers.js';

// Two independent servers: routing is under test, not replication.
let primary: PostgresServer;
let replica: PostgresServer;
const pools: PgPool[] = [];

beforeAll(async () => {
  [primary, replica] = await Promise.all([startPostgresServer(), startPostgresServer()]);
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
  await Promise.all([primary?.stop(), replica?.stop()]);
});

function nodeOf(server: PostgresServer, id: string, role: 'primary' | 'replica') {
  return { id, role, host: server.host, port: server.port, user: server.user, password: server.password, database: server.database };
}

function makePool(options: Partial<PgPoolOptions> = {}): PgPool {
  const pool = createPgPool({
    nodes: [nodeOf(primary, 'main', 'primary'), nodeOf(replica, 'reader', 'replica')],
    applicationName: uniqueAppName('routing'),
    ...options,
  });
  pools.push(pool);
  return pool;
}

const portOf = async (pool: PgPool, options?: Parameters<PgPool['query']>[2]) =>
  Number((await pool.query<{ port: string }>("SELECT current_setting('port') AS port", [], options)).rows[0]?.port);

describe('primary/replica routing', () => {
  it('sends writes to the primary and readOnly work to the replica', async () => {
    const pool = makePool();
    for (let i = 0; i < 5; i++) {
      expect(await portOf(pool)).toBe(primary.port);
      expect(await portOf(pool, { readOnly: true })).toBe(replica.port);
    }
    const inTransaction = await pool.transaction(
      async (client) => Number((await client.query("SELECT current_setting('port') AS port")).rows[0].port),
      { readOnly: true },
    );
    expect(inTransaction).toBe(replica.port);
    const writeTransaction = await pool.transaction(async (client) =>
      Number((await client.query("SELECT current_setting('port') AS port")).rows[0].port),
    );
    expect(writeTransaction).toBe(primary.port);
    await expect(pool.transaction((client) => client.query('CREATE TEMP TABLE nope (id int)'), { readOnly: true })).rejects.toMatchObject({
      code: '25006',
    });
  });

  it('`node` pins a query to one node', async () => {
    const pool = makePool();
    expect(await portOf(pool, { node: 'reader' })).toBe(replica.port);
    expect(await portOf(pool, { node: 'main', readOnly: true })).toBe(primary.port);
    await expect(pool.query('SELECT 1', [], { node: 'nope' })).rejects.toMatchObject({ code: 'NODE_UNKNOWN' });
  });

  it('routes to replicas added and removed at run time', async () => {
    const pool = createPgPool({ nodes: [nodeOf(primary, 'main', 'primary')], applicationName: uniqueAppName('routing') });
    pools.push(pool);
    expect(await portOf(pool, { readOnly: true })).toBe(primary.port);
    pool.addNode(nodeOf(replica, 'late', 'replica'));
    expect(() => pool.addNode(nodeOf(replica, 'late', 'replica'))).toThrow(/node\.id/);
    expect(await portOf(pool, { readOnly: true })).toBe(replica.port);
    expect(await portOf(pool)).toBe(primary.port);
    await pool.removeNode('late');
    expect(await portOf(pool, { readOnly: true })).toBe(primary.port);
    pool.addNode(nodeOf(replica, 'late', 'replica'));
    expect(await portOf(pool, { readOnly: true })).toBe(replica.port);
  });

  it('exposes nodes without credentials', async () => {
    const pool = makePool();
    expect(pool.nodes.map((node) => ({ ...node }))).toEqual([
      { id: 'main', role: 'primary', host: '127.0.0.1', port: primary.port, database: 'postgres' },
      { id: 'reader', role: 'replica', host: '127.0.0.1', port: replica.port, database: 'postgres' },
    ]);
    expect(JSON.stringify(pool.nodes)).not.toContain(primary.password);
  });

  it('falls back to the primary when the replica cannot serve, and returns to it once back', async () => {
    const pool = makePool({
      createRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      circuitBreaker: { failureThreshold: 2, cooldownMs: 300 },
    });
    expect(await portOf(pool, { readOnly: true })).toBe(replica.port);
    await replica.shutdown();
    // Let the pooled replica connection see its socket close (it is evicted, never handed out).
    await new Promise((resolve) => setTimeout(resolve, 100));
    try {
      // The replica's pooled connection dies with the server, new ones fail: reads go to the primary.
      for (let i = 0; i < 4; i++) expect(await portOf(pool, { readOnly: true })).toBe(primary.port);
      expect(pool.stats().nodes['reader']?.circuit).toBe('open');
      expect(await portOf(pool)).toBe(primary.port);
    } finally {
      await replica.start();
    }
    await new Promise((resolve) => setTimeout(resolve, 350));
    let port = 0;
    for (let i = 0; i < 5 && port !== replica.port; i++) port = await portOf(pool, { readOnly: true });
    expect(port).toBe(replica.port);
  });
});
