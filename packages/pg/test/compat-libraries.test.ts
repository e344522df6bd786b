import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { Kysely, PostgresDialect, sql as ksql } from 'kysely';
import { runner } from 'node-pg-migrate';
import { afterAll, describe, expect, it } from 'vitest';
import { Pool } from '@pool/pg/compat';
import { poolFor } from './compat-helpers.js';
import { startPostgresForFile } from './helpers.js';

// Real libraries handed the facade where they take a pg.Pool, against a real server.
const postgres = startPostgresForFile();
const makePool = poolFor(postgres);

describe('Kysely (PostgresDialect)', () => {
  it('runs schema, inserts, selects and a transaction that rolls back', async () => {
    interface Database {
      kysely_items: { id: number; name: string };
    }
    const pool = makePool({ max: 3 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    await db.schema.createTable('kysely_items').addColumn('id', 'serial', (column) => column.primaryKey()).addColumn('name', 'text').execute();
    await db.insertInto('kysely_items').values([{ name: 'a' }, { name: 'b' }] as never).execute();
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('kysely_items').values({ name: 'c' } as never).execute();
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const rows = await db.selectFrom('kysely_items').select('name').orderBy('name').execute();
    expect(rows.map((row) => row.name)).toEqual(['a', 'b']);
    expect((await ksql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows[0]?.one).toBe(1);
    await db.destroy(); // ends the pool, as Kysely does with a pg.Pool
    expect(pool.ended).toBe(true);
  });
});

describe('Drizzle (drizzle-orm/node-postgres)', () => {
  it('executes statements and runs a transaction on one checked-out client', async () => {
    const pool = makePool({ max: 3 });
    const db = drizzle({ client: pool });
    await db.execute(sql`CREATE TABLE drizzle_items (id serial PRIMARY KEY, name text)`);
    await db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO drizzle_items (name) VALUES ('x')`);
      await tx.execute(sql`INSERT INTO drizzle_items (name) VALUES ('y')`);
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO drizzle_items (name) VALUES ('z')`);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    const result = await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM drizzle_items`);
    expect(result.rows[0]?.n).toBe(2);
    expect(pool.idleCount).toBeGreaterThan(0);
  });
});

describe('node-pg-migrate 9 (programmatic runner)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pool-migrations-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '1700000000000_create-accounts.sql'), '-- Up Migration\nCREATE TABLE accounts (id serial PRIMARY KEY, email text NOT NULL);\n\n-- Down Migration\nDROP TABLE accounts;\n');
  writeFileSync(join(dir, '1700000000001_add-name.sql'), '-- Up Migration\nALTER TABLE accounts ADD COLUMN name text;\n\n-- Down Migration\nALTER TABLE accounts DROP COLUMN name;\n');

  const logger = () => {
    const complaints: string[] = [];
    return {
      complaints,
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: (message: string) => complaints.push(`warn: ${message}`),
        error: (message: string) => complaints.push(`error: ${message}`),
      },
    };
  };

  for (const handedAs of ['the pool itself', 'a client from pool.connect()'] as const) {
    it(`migrates up and down with ${handedAs} as dbClient: lock taken and released, single transaction committed`, async () => {
      const pool = makePool();
      const table = handedAs === 'the pool itself' ? 'pgmigrations_pool' : 'pgmigrations_client';
      const client = handedAs === 'the pool itself' ? undefined : await pool.connect();
      const dbClient = (client ?? pool) as never;
      const up = logger();
      const applied = await runner({ dbClient, dir, direction: 'up', migrationsTable: table, count: Infinity, logger: up.logger });
      expect(applied.map((migration) => migration.name)).toEqual(['1700000000000_create-accounts', '1700000000001_add-name']);
      expect(up.complaints).toEqual([]);
      const columns = await postgres.admin.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'accounts' ORDER BY column_name");
      expect(columns.rows.map((row) => row.column_name)).toEqual(['email', 'id', 'name']);
      const locks = await postgres.admin.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'");
      expect(locks.rows[0].n).toBe(0);

      const down = logger();
      const reverted = await runner({ dbClient, dir, direction: 'down', migrationsTable: table, count: Infinity, logger: down.logger });
      expect(reverted).toHaveLength(2);
      expect(down.complaints).toEqual([]);
      expect((await postgres.admin.query("SELECT to_regclass('public.accounts') AS t")).rows[0].t).toBeNull();
      client?.release();
    });
  }
});

describe('@prisma/adapter-pg (the adapter used directly, no generate step)', () => {
  it('new PrismaPg(pool) keeps the facade as its pool: raw queries, a transaction, dispose', async () => {
    const pool = makePool({ max: 2 });
    const factory = new PrismaPg(pool);
    expect((factory as unknown as { externalPool: unknown }).externalPool).toBe(pool);
    const adapter = await factory.connect();
    const argTypes = [{ scalarType: 'int', arity: 'scalar' }] as never;
    const result = await adapter.queryRaw({ sql: 'SELECT $1::int + 1 AS n', args: [41], argTypes });
    expect(result.columnNames).toEqual(['n']);
    expect(result.rows).toEqual([[42]]);
    await adapter.executeRaw({ sql: 'CREATE TABLE prisma_items (id int PRIMARY KEY)', args: [], argTypes: [] as never });

    const tx = await adapter.startTransaction();
    await tx.executeRaw({ sql: 'INSERT INTO prisma_items VALUES ($1)', args: [1], argTypes });
    await tx.executeRaw({ sql: 'COMMIT', args: [], argTypes: [] as never });
    await tx.commit();
    const rolled = await adapter.startTransaction();
    await rolled.executeRaw({ sql: 'INSERT INTO prisma_items VALUES ($1)', args: [2], argTypes });
    await rolled.executeRaw({ sql: 'ROLLBACK', args: [], argTypes: [] as never });
    await rolled.rollback();
    const count = await adapter.queryRaw({ sql: 'SELECT count(*)::int AS n FROM prisma_items', args: [], argTypes: [] as never });
    expect(count.rows).toEqual([[1]]);
    // A DatabaseError comes back as Prisma's mapped error.
    await expect(adapter.queryRaw({ sql: 'SELECT * FROM missing_table', args: [], argTypes: [] as never })).rejects.toMatchObject({
      name: 'DriverAdapterError',
    });
    await adapter.dispose();
    expect(pool.ending).toBe(false); // not disposeExternalPool: the pool stays the user's
    expect((await pool.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
  });

  it('with a plain pg.PoolConfig instead, it would build its own pg.Pool: the facade is what it got', () => {
    expect(new PrismaPg(new Pool())).toBeDefined();
  });
});
