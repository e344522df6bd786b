import pg from 'pg';
import type { PostgresServer } from '@pool/testkit/pg';

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
