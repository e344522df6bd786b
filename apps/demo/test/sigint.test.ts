import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { startPostgresServer, type PostgresServer } from '@pool/testkit/pg';
import { startTcpEchoServer, type TcpTestServer } from '@pool/testkit/tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from './helpers.js';

const demoDir = fileURLToPath(new URL('..', import.meta.url));
const mainJs = `${demoDir}dist/main.js`;

/** `dist/` is what `npm run demo` runs: rebuild it when a source file is newer. */
function ensureBuilt(): void {
  const newestSource = Math.max(...readdirSync(`${demoDir}src`).map((file) => statSync(`${demoDir}src/${file}`).mtimeMs));
  if (existsSync(mainJs) && statSync(mainJs).mtimeMs >= newestSource) return;
  const result = spawnSync(process.execPath, [`${demoDir}../../node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: demoDir,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`building apps/demo failed:\n${result.stdout}${result.stderr}`);
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

let external: TcpTestServer;
let externalPg: PostgresServer;
let child: ChildProcess | undefined;

beforeAll(async () => {
  ensureBuilt();
  [external, externalPg] = await Promise.all([startTcpEchoServer(), startPostgresServer()]);
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all([external?.stop(), externalPg?.stop()]);
});

it('node dist/main.js: prints the URL, uses external servers from the environment, and exits 0 on SIGINT with nothing left listening', async () => {
  const spawned = spawn(process.execPath, [mainJs], {
    cwd: demoDir,
    env: {
      ...process.env,
      DEMO_PORT: '0',
      DEMO_RATE: '5',
      DEMO_TCP_HOST: '127.0.0.1',
      DEMO_TCP_PORT: String(external.port),
      DEMO_PG_URL: externalPg.connectionString,
      DEMO_OTEL: 'console',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = spawned;
  let output = '';
  spawned.stdout?.setEncoding('utf8').on('data', (text: string) => { output += text; });
  spawned.stderr?.setEncoding('utf8').on('data', (text: string) => { output += text; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    spawned.once('exit', (code, signal) => resolve({ code, signal })));

  const url = await waitFor('the dashboard URL on stdout', () => {
    if (spawned.exitCode !== null) throw new Error(`the demo exited early:\n${output}`);
    return /Dashboard: (http:\/\/\S+)/.exec(output)?.[1];
  }, 30_000);
  const dashboardPort = Number(new URL(url).port);
  // "[demo]   pg    pg-primary   127.0.0.1:35207/postgres" and the like, one line per server.
  const embeddedPorts = [...output.matchAll(/^\[demo\] {3}\S+\s+\S+\s+(?:http:\/\/)?127\.0\.0\.1:(\d+)\S*$/gm)].map((match) => Number(match[1]));
  expect(embeddedPorts.length, output).toBe(5); // 2 http2, 2 grpc, 1 ssh; tcp and pg are external
  expect(output).toContain(`tcp   tcp-ext      127.0.0.1:${external.port} (external)`);
  expect(output).toContain(`pg    pg-ext       127.0.0.1:${externalPg.port}/postgres (external)`);

  await waitFor('/health to answer 200', async () => (await fetch(`${url}health`)).status === 200, 20_000);
  const state = (await (await fetch(`${url}api/state`)).json()) as { pools: { name: string; nodes: { id: string; idle: number; active: number }[] }[] };
  const tcp = state.pools.find((pool) => pool.name === 'tcp');
  expect(tcp?.nodes.map((node) => node.id)).toEqual(['tcp-ext']);
  await waitFor('the pool to hold a connection to the external server', () => external.openConnections > 0, 10_000);
  // Faults work on an external PostgreSQL too (on the demo's own backends only).
  const terminate = await fetch(`${url}api/fault`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'pg/terminate' }),
  });
  expect(terminate.status).toBe(200);
  const served = [await (await fetch(`${url}metrics`)).text(), await (await fetch(`${url}health`)).text(), JSON.stringify(state)];
  for (const text of served) expect(text.includes(externalPg.password)).toBe(false);

  spawned.kill('SIGINT');
  const exit = await Promise.race([
    exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit within 20 s after SIGINT:\n${output}`)), 20_000)),
  ]);
  expect(exit, output).toEqual({ code: 0, signal: null });
  expect(output).toContain('SIGINT: shutting down');
  expect(output).toContain('[demo] stopped');
  // DEMO_OTEL=console: @pool/otel's metrics reached the SDK's console exporter (its last export at shutdown).
  expect(output).toContain('DEMO_OTEL=console');
  for (const name of ['db.client.connection.count', 'db.client.connection.wait_time', 'db.client.connection.use_time']) expect(output).toContain(`name: '${name}'`);
  for (const pool of ['pg', 'tcp', 'ssh']) expect(output).toContain(`'db.client.connection.pool.name': '${pool}'`);

  for (const port of [dashboardPort, ...embeddedPorts]) expect(await refused(port), `port ${port} still open`).toBe(true);
  // The external servers are not the demo's to stop; the drained pools closed their sockets.
  expect(await refused(external.port)).toBe(false);
  expect(await refused(externalPg.port)).toBe(false);
  await waitFor('the external server to see every pooled socket closed', () => external.openConnections === 0, 5_000);
  expect(output).not.toMatch(/\/\/[^/\s:@]+:[^@\s/]+@/);
  expect(output.includes(externalPg.password)).toBe(false);
}, 60_000);
