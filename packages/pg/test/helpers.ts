import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startPostgresServer, type PostgresServer, type PostgresServerOptions } from '@pool/testkit/pg';

/** Connection fields of a test server, as the pool takes them. */
export function connectionOf(server: PostgresServer) {
  return { host: server.host, port: server.port, user: server.user, password: server.password, database: server.database };
}

/** A plain pg.Client for looking at the server from outside the pool (pg_stat_activity, terminate). */
export async function adminClient(server: PostgresServer): Promise<pg.Client> {
  const client = new pg.Client({ ...connectionOf(server), application_name: 'pool-test-admin' });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The server a test file shares, and a plain client on it for looking from outside the pool. */
export interface PostgresForFile {
  readonly server: PostgresServer;
  readonly admin: pg.Client;
  /** Ends the admin client and connects a new one, e.g. after `server.restart()` cut it off. */
  reconnectAdmin(): Promise<pg.Client>;
  /** Runs `close` in `afterAll`, before the admin client ends and the server stops. */
  closeAfterAll(close: () => Promise<unknown>): void;
}

/**
 * Registers, once per test file, a `beforeAll` that starts a PostgreSQL server (with `options`)
 * and an admin client on it, and an `afterAll` that closes the pools, the client and the server.
 */
export function startPostgresForFile(options?: PostgresServerOptions): PostgresForFile {
  let server: PostgresServer | undefined;
  let admin: pg.Client | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    server = await startPostgresServer(options);
    admin = await adminClient(server);
  });
  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
    await admin?.end();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the PostgreSQL server starts in beforeAll: use it inside a test');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get admin() {
      return started(admin);
    },
    async reconnectAdmin() {
      await admin?.end().catch(() => undefined);
      admin = await adminClient(started(server));
      return admin;
    },
    closeAfterAll(close) {
      closers.push(close);
    },
  };
}

export async function backendsOf(admin: pg.Client, applicationName: string): Promise<number> {
  const result = await admin.query<{ count: string }>(
    'SELECT count(*) FROM pg_stat_activity WHERE application_name = $1',
    [applicationName],
  );
  return Number(result.rows[0]?.count ?? 0);
}

/** Polls until `check` is true; fails with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let names = 0;
export function uniqueAppName(prefix: string): string {
  names += 1;
  return `${prefix}-${process.pid}-${names}`;
}
