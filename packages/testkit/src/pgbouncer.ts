import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reachableTempDir, runsAsPostgresUser } from './pg-binaries.js';
import type { PostgresServer } from './pg.js';
import { freePort, stopChild } from './processes.js';

/** Debian's `pgbouncer` package (scripts/system-deps.mjs installs it for `npm test`). */
const PGBOUNCER = '/usr/sbin/pgbouncer';

export interface PgBouncerOptions {
  /** `pool_mode`. Default `'transaction'`, what fleets run. */
  poolMode?: 'session' | 'transaction' | 'statement';
  /** Server connections per user/database pair. Default 5. */
  defaultPoolSize?: number;
  /** Extra `[pgbouncer]` settings (`max_prepared_statements`, `ignore_startup_parameters`...). */
  settings?: Record<string, string | number>;
  /** How long start may take. Default 10_000 ms. */
  startTimeoutMs?: number;
}

export interface PgBouncer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: 'postgres';
  /** `postgres://user:password@127.0.0.1:port/postgres` through the bouncer: a secret. */
  readonly connectionString: string;
  /** `pgbouncer --version`'s first line, e.g. `PgBouncer 1.18.0`. */
  readonly version: string;
  /** The log lines so far (stderr). */
  log(): string;
  /** Stops the bouncer and removes its config directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a real PgBouncer on 127.0.0.1 (a free port) in front of `server`, users authenticated with
 * the server's own user and password (scram-sha-256 both ways). PgBouncer refuses to run as
 * root, so as root it runs as the `postgres` OS user, from a config directory that user can read.
 */
export async function startPgBouncer(server: PostgresServer, options: PgBouncerOptions = {}): Promise<PgBouncer> {
  if (!existsSync(PGBOUNCER)) {
    throw new Error(`PgBouncer is not installed (${PGBOUNCER}); \`npm test\` installs it (Debian: apt-get install pgbouncer)`);
  }
  const version = execFileSync(PGBOUNCER, ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim() ?? 'PgBouncer';
  const dir = mkdtempSync(join(reachableTempDir(), 'pool-pgbouncer-'));
  const owner = runsAsPostgresUser() ? postgresIds() : undefined;
  const port = await freePort();
  const settings: Record<string, string | number> = {
    listen_addr: '127.0.0.1',
    listen_port: port,
    unix_socket_dir: '',
    auth_type: 'scram-sha-256',
    auth_file: join(dir, 'userlist.txt'),
    pool_mode: options.poolMode ?? 'transaction',
    default_pool_size: options.defaultPoolSize ?? 5,
    max_client_conn: 200,
    server_login_retry: 1,
    ...options.settings,
  };
  const config = [
    '[databases]',
    `postgres = host=127.0.0.1 port=${server.port} dbname=postgres`,
    '[pgbouncer]',
    ...Object.entries(settings).map(([name, value]) => `${name} = ${value}`),
    '',
  ].join('\n');
  const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;
  writeFileSync(join(dir, 'userlist.txt'), `${quote(server.user)} ${quote(server.password)}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'pgbouncer.ini'), config, { mode: 0o600 });
  if (owner) {
    for (const file of ['userlist.txt', 'pgbouncer.ini']) chownSync(join(dir, file), owner.uid, owner.gid);
    chownSync(dir, owner.uid, owner.gid);
  }
  chmodSync(dir, 0o700);

  const lines: string[] = [];
  const child: ChildProcess = spawn(PGBOUNCER, [join(dir, 'pgbouncer.ini')], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(owner ?? {}),
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => lines.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => lines.push(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (error) => lines.push(String(error)));

  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const deadline = Date.now() + startTimeoutMs;
  while (!lines.join('').includes(`listening on 127.0.0.1:${port}`)) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`PgBouncer did not start (port ${port}). Its log:\n${lines.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  let stopped = false;
  return {
    host: '127.0.0.1',
    port,
    user: server.user,
    password: server.password,
    database: 'postgres',
    get connectionString() {
      return `postgres://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@127.0.0.1:${port}/postgres`;
    },
    version,
    log: () => lines.join(''),
    async stop() {
      if (stopped) return;
      stopped = true;
      // SIGTERM, not SIGINT: PgBouncer's "safe shutdown" (SIGINT) waits for clients.
      await stopChild(child, exited);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

