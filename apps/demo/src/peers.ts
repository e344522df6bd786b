import { POOL_NAMES, type DemoConfig, type ExternalGrpcNode, type ExternalHttp2Node, type ExternalTcpNode, type PoolName } from './config.js';
import { embeddedGrpc, embeddedHttp2, embeddedPg, embeddedSsh, embeddedTcp } from './embedded-peers.js';
import { externalGrpc, externalHttp2, externalPg, externalSsh, externalTcp } from './external-peers.js';

/** Something the dashboard can do to one peer: stop it, start it, send it a GOAWAY... */
export interface PeerAction {
  /** Unique within the node: `stop`, `start`, `goaway`, `drop`. */
  name: string;
  label: string;
  run(): Promise<void>;
}

/** One server a pool talks to, as the dashboard shows it. Never holds a credential. */
export interface PeerNode {
  readonly pool: PoolName;
  readonly id: string;
  /** `host:port` or an origin, without credentials. */
  readonly endpoint: string;
  readonly embedded: boolean;
  isRunning(): boolean;
  readonly actions: PeerAction[];
}

/** Where a pool connects: for TCP, HTTP/2 and gRPC the same fields a config's external node has. */
export type TcpEndpoint = ExternalTcpNode;
export type Http2Endpoint = ExternalHttp2Node;
export type GrpcEndpoint = ExternalGrpcNode;
export interface SshEndpoint {
  id: string;
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKey?: string;
  hostKeys: string[];
}
export interface PgEndpoint {
  id: string;
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
}

/** Where each pool connects, plus the controls of the embedded servers. */
export interface Peers {
  tcp: TcpEndpoint[];
  http2: { nodes: Http2Endpoint[]; path: string };
  grpc: { nodes: GrpcEndpoint[]; tls: boolean };
  ssh: { nodes: SshEndpoint[]; command: string };
  pg: PgEndpoint[];
  nodes: PeerNode[];
  /** Every password and key in play, so log lines can be scrubbed of them. */
  secrets: string[];
  /** Stops every embedded server. Idempotent. */
  stopAll(): Promise<void>;
}

/** A server the demo started and must stop. */
export interface Started {
  stop(): Promise<void>;
}

/**
 * Starts the embedded servers (in parallel) for every transport that has no external server in
 * the config. If one fails to start, the others are stopped and the error names which one.
 */
export async function startPeers(config: DemoConfig): Promise<Peers> {
  const { external } = config;
  const started: Started[] = [];
  const nodes: PeerNode[] = [];
  const secrets: string[] = [];
  const track = <T extends Started>(server: T): T => {
    started.push(server);
    return server;
  };
  const stopAll = async () => {
    const servers = started.splice(0);
    await Promise.allSettled(servers.map((server) => server.stop()));
  };

  // Async throughout, so a bad external setting (an unreadable key file) is one more failure
  // below instead of an exception that would leave the embedded servers running.
  const tasks = {
    tcp: (async () => external.tcp ? externalTcp(external.tcp, nodes) : embeddedTcp(track, nodes))(),
    http2: (async () => external.http2 ? externalHttp2(external.http2, nodes) : embeddedHttp2(track, nodes))(),
    grpc: (async () => external.grpc ? externalGrpc(external.grpc, nodes) : embeddedGrpc(track, nodes))(),
    ssh: (async () => external.ssh ? externalSsh(external.ssh, nodes, secrets) : embeddedSsh(track, nodes, secrets))(),
    pg: (async () => external.pg ? externalPg(external.pg, nodes, secrets) : embeddedPg(track, nodes, secrets))(),
  };
  const names = Object.keys(tasks) as (keyof typeof tasks)[];
  const results = await Promise.allSettled(names.map((name) => tasks[name]));
  const failures = results.flatMap((result, index) =>
    result.status === 'rejected' ? [`${names[index]}: ${(result.reason as Error)?.message ?? String(result.reason)}`] : []);
  if (failures.length > 0) {
    await stopAll();
    throw new Error(`could not start the demo's servers:\n${failures.join('\n')}`);
  }
  const value = <K extends keyof typeof tasks>(name: K) =>
    (results[names.indexOf(name)] as PromiseFulfilledResult<Awaited<(typeof tasks)[K]>>).value;
  nodes.sort((a, b) => POOL_NAMES.indexOf(a.pool) - POOL_NAMES.indexOf(b.pool) || a.id.localeCompare(b.id));
  return {
    tcp: value('tcp'),
    http2: value('http2'),
    grpc: value('grpc'),
    ssh: value('ssh'),
    pg: value('pg'),
    nodes,
    secrets: secrets.filter((secret) => secret.length > 0),
    stopAll,
  };
}
