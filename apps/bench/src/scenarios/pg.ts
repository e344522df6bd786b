import pg from 'pg';
import { createPgPool, PgPoolCompat } from '@pool/pg';
import { startPostgresServer, type PostgresServer } from '@pool/testkit/pg';
import { compare, withRatios, type BenchRow, type BenchTable, type Contestant } from '../harness.js';

const CALLERS = 64;
const CONNECTIONS = 10;
const ROWS = 100;
const PG_POOL = 'pg.Pool';

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const timing = {
  rounds: envNumber('BENCH_ROUNDS', 5),
  roundMs: envNumber('BENCH_ROUND_MS', 1_000),
  warmupMs: envNumber('BENCH_WARMUP_MS', 500),
  sampleEvery: 4,
};

interface Workload {
  name: string;
  text: string;
  values(): unknown[] | undefined;
}

const workloads: Workload[] = [
  { name: 'SELECT 1', text: 'SELECT 1', values: () => undefined },
  {
    name: '1 KB row by primary key',
    text: 'SELECT id, payload FROM bench_rows WHERE id = $1',
    values: () => [1 + Math.floor(Math.random() * ROWS)],
  },
];

function connection(server: PostgresServer) {
  return { host: server.host, port: server.port, user: server.user, password: server.password, database: server.database };
}

function pgPool(server: PostgresServer, workload: Workload): Contestant {
  const pool = new pg.Pool({ ...connection(server), max: CONNECTIONS });
  pool.on('error', () => undefined);
  return {
    name: PG_POOL,
    op: () => pool.query(workload.text, workload.values()),
    close: () => pool.end(),
    describe: () => `clients ${pool.totalCount}`,
  };
}

function poolPg(server: PostgresServer, workload: Workload): Contestant {
  const pool = createPgPool({ ...connection(server), maxPerNode: CONNECTIONS });
  return {
    name: '@pool/pg, pool.query()',
    op: () => pool.query(workload.text, workload.values()),
    close: () => pool.close(),
    describe: () => {
      const stats = pool.stats();
      return `connections created ${stats.created}, queries ${stats.acquired.toLocaleString('en-US')}`;
    },
  };
}

function compat(server: PostgresServer, workload: Workload): Contestant {
  const pool = new PgPoolCompat({ ...connection(server), max: CONNECTIONS });
  return {
    name: '@pool/pg/compat Pool, query()',
    op: () => pool.query(workload.text, workload.values()),
    close: () => pool.end(),
  };
}

async function seed(server: PostgresServer): Promise<void> {
  const client = new pg.Client(connection(server));
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('CREATE TABLE IF NOT EXISTS bench_rows (id int PRIMARY KEY, payload text NOT NULL)');
    await client.query('TRUNCATE bench_rows');
    await client.query(`INSERT INTO bench_rows SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, ${ROWS}) AS g`);
  } finally {
    await client.end();
  }
}

/**
 * @pool/pg against pg.Pool on the same embedded PostgreSQL in the same run: 64 concurrent callers
 * over 10 connections, rounds interleaved, median round reported.
 */
export async function run(): Promise<BenchTable> {
  const server = await startPostgresServer({ maxConnections: 60 });
  const rows: BenchRow[] = [];
  try {
    await seed(server);
    for (const workload of workloads) {
      const group = `${workload.name}, ${CALLERS} callers, ${CONNECTIONS} connections`;
      const result = await compare(
        [() => pgPool(server, workload), () => poolPg(server, workload), () => compat(server, workload)],
        { ...timing, callers: CALLERS, group },
      );
      rows.push(...withRatios(result, PG_POOL));
    }
  } finally {
    await server.stop();
  }
  return {
    title: 'PostgreSQL: @pool/pg vs pg.Pool (same server, same run)',
    ratioLabel: 'vs pg.Pool',
    rows,
    notes: [
      `Embedded PostgreSQL 17 on 127.0.0.1 (fsync off), scram-sha-256; ${CALLERS} concurrent callers, ${CONNECTIONS} connections per pool; median of ${timing.rounds} interleaved rounds of ${timing.roundMs} ms after ${timing.warmupMs} ms warm-up; p50/p99 over every 4th query.`,
      '1 KB row: `SELECT id, payload FROM bench_rows WHERE id = $1` over 100 rows of 1,024-character text, random id.',
      '@pool/pg runs with its defaults (validation of connections idle 500 ms or more, transaction-status check on release: no extra round trip).',
      'The server shares the 2 cores with the client, so the ratio column (ops per CPU-second of the client process) is the steadier comparison.',
    ],
  };
}
