import { createPgPool } from '@pool/pg';
import { startPostgresServer, type PostgresServer } from '@pool/testkit/pg';
import pg from 'pg';
import { WrongResult } from '../errors.js';
import { connectionBounds, SHARED_POOL_OPTIONS, type SoakTarget } from '../target.js';

const MAX_PER_NODE = 4;
const CALLERS = 8;

/** Terminates every backend of the pool (application_name '@pool/pg', the default) from a connection of its own. */
async function terminatePoolBackends(server: PostgresServer): Promise<void> {
  const admin = new pg.Client({
    host: server.host, port: server.port, user: server.user, password: server.password, database: server.database,
    application_name: 'soak-admin',
  });
  admin.on('error', () => {});
  await admin.connect();
  try {
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '@pool/pg'`);
  } finally {
    await admin.end();
  }
}

/**
 * One embedded PostgreSQL 17, 8 callers on 4 connections. Operations: `SELECT $1::int` (the value
 * is checked), a 5 ms `pg_sleep`, and a transaction whose SELECT is checked.
 */
export async function startPg(): Promise<SoakTarget> {
  const server = await startPostgresServer({ maxConnections: 40 });
  const pool = createPgPool({
    ...SHARED_POOL_OPTIONS,
    host: server.host, port: server.port, user: server.user, password: server.password, database: server.database,
    maxPerNode: MAX_PER_NODE,
  });
  const check = (sequence: number, result: pg.QueryResult<{ n: number }>) => {
    if (result.rows[0]?.n !== sequence) throw new WrongResult(`SELECT ${sequence} returned ${JSON.stringify(result.rows)}`);
  };
  return {
    name: 'pg',
    setup: `embedded PostgreSQL 17, maxPerNode ${MAX_PER_NODE}, ${CALLERS} callers`,
    pool,
    ...connectionBounds(1, MAX_PER_NODE, 1, CALLERS),
    op: async (sequence) => {
      switch (sequence % 5) {
        case 0:
          await pool.transaction(async (client) => check(sequence, await client.query('SELECT $1::int AS n', [sequence])));
          return;
        case 1:
          await pool.query('SELECT pg_sleep(0.005)');
          return;
        default:
          check(sequence, await pool.query<{ n: number }>('SELECT $1::int AS n', [sequence]));
      }
    },
    faults: [
      { at: 0.1, name: "pg_terminate_backend of every backend of the pool", run: () => terminatePoolBackends(server) },
      { at: 0.25, name: 'restart PostgreSQL (fast shutdown, 300 ms down)', run: () => server.restart({ downMs: 300 }) },
      { at: 0.45, name: "pg_terminate_backend of every backend of the pool", run: () => terminatePoolBackends(server) },
    ],
    // README "Errors": a terminated backend or a fast shutdown ends the running statement with
    // the server's FATAL 57P01 (admin_shutdown); connects while the server is down or starting fail
    // CREATE_FAILED, then NODE_UNAVAILABLE.
    expectedFaultErrors: ['57P01', 'CREATE_FAILED', 'NODE_UNAVAILABLE'],
    secrets: [server.password, server.connectionString],
    stop: () => server.stop(),
  };
}
