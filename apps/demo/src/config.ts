import { readFileSync } from 'node:fs';

/** The five transports, in the order the dashboard shows them. */
export const POOL_NAMES = ['pg', 'http2', 'grpc', 'ssh', 'tcp'] as const;
export type PoolName = (typeof POOL_NAMES)[number];

export interface ExternalTcpNode { id: string; host: string; port: number }
export interface ExternalHttp2Node { id: string; origin: string }
export interface ExternalGrpcNode { id: string; target: string }
export interface ExternalSshNode {
  id: string;
  host: string;
  port: number;
  username: string;
  password?: string;
  /** Path of a private key file. */
  privateKeyFile?: string;
  /** Host key pin: `SHA256:...` fingerprint or `ssh-ed25519 AAAA...` public key line. */
  hostKey: string;
}
export interface ExternalPgNode { id: string; connectionString: string }

/**
 * External servers that replace the embedded ones. A transport left out runs against its
 * embedded server.
 */
export interface ExternalPeers {
  tcp?: ExternalTcpNode[];
  http2?: { nodes: ExternalHttp2Node[]; path: string };
  grpc?: { nodes: ExternalGrpcNode[]; tls: boolean };
  ssh?: { nodes: ExternalSshNode[]; command: string };
  pg?: ExternalPgNode[];
}

export interface DemoConfig {
  /** Dashboard host. Default 127.0.0.1. */
  host: string;
  /** Dashboard port. Default 3000; 0 = ephemeral. */
  port: number;
  /** Operations per second per transport. Default 8. */
  rate: number;
  external: ExternalPeers;
  /** `'console'`: also export the pools' OpenTelemetry metrics (@pool/otel) to the console. Default off. */
  otel?: 'console';
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The config file's shape: every field optional. See README.md. */
interface ConfigFile {
  host?: string;
  port?: number;
  rate?: number;
  tcp?: { nodes: ExternalTcpNode[] };
  http2?: { nodes: ExternalHttp2Node[]; path?: string };
  grpc?: { nodes: ExternalGrpcNode[]; tls?: boolean };
  ssh?: { nodes: ExternalSshNode[]; command?: string };
  pg?: { nodes: ExternalPgNode[] };
}

type Env = Record<string, string | undefined>;

/** Reads `--config file.json` (if given) then the `DEMO_*` environment variables, which win. */
export function loadConfig(argv: readonly string[], env: Env): DemoConfig {
  const file = readConfigFile(argv);
  const config: DemoConfig = {
    host: env['DEMO_HOST'] ?? file.host ?? '127.0.0.1',
    port: integer('DEMO_PORT', env['DEMO_PORT'] ?? file.port ?? 3000, 0, 65_535),
    rate: integer('DEMO_RATE', env['DEMO_RATE'] ?? file.rate ?? 8, 0, 200),
    external: {},
  };
  const { external } = config;
  if (file.tcp) external.tcp = list('tcp.nodes', file.tcp.nodes);
  if (file.http2) external.http2 = { nodes: list('http2.nodes', file.http2.nodes), path: file.http2.path ?? '/' };
  if (file.grpc) external.grpc = { nodes: list('grpc.nodes', file.grpc.nodes), tls: file.grpc.tls ?? false };
  if (file.ssh) external.ssh = { nodes: list('ssh.nodes', file.ssh.nodes), command: file.ssh.command ?? 'echo pool-demo' };
  if (file.pg) external.pg = list('pg.nodes', file.pg.nodes);
  const otel = env['DEMO_OTEL'];
  if (otel === 'console') config.otel = 'console';
  else if (otel !== undefined && otel !== '' && otel !== 'off') throw new ConfigError(`DEMO_OTEL must be console or off; got ${JSON.stringify(otel)}`);

  if (env['DEMO_TCP_HOST'] !== undefined || env['DEMO_TCP_PORT'] !== undefined) {
    external.tcp = [{
      id: 'tcp-ext',
      host: env['DEMO_TCP_HOST'] ?? '127.0.0.1',
      port: integer('DEMO_TCP_PORT', env['DEMO_TCP_PORT'], 1, 65_535),
    }];
  }
  if (env['DEMO_HTTP2_ORIGIN'] !== undefined) {
    external.http2 = { nodes: [{ id: 'h2-ext', origin: env['DEMO_HTTP2_ORIGIN'] }], path: env['DEMO_HTTP2_PATH'] ?? '/' };
  }
  if (env['DEMO_GRPC_TARGET'] !== undefined) {
    external.grpc = { nodes: [{ id: 'grpc-ext', target: env['DEMO_GRPC_TARGET'] }], tls: env['DEMO_GRPC_TLS'] === '1' };
  }
  if (env['DEMO_SSH_HOST'] !== undefined) {
    const node: ExternalSshNode = {
      id: 'ssh-ext',
      host: env['DEMO_SSH_HOST'],
      port: integer('DEMO_SSH_PORT', env['DEMO_SSH_PORT'] ?? 22, 1, 65_535),
      username: required('DEMO_SSH_USER', env['DEMO_SSH_USER']),
      hostKey: required('DEMO_SSH_HOSTKEY', env['DEMO_SSH_HOSTKEY']),
    };
    if (env['DEMO_SSH_PASSWORD'] !== undefined) node.password = env['DEMO_SSH_PASSWORD'];
    if (env['DEMO_SSH_KEY_FILE'] !== undefined) node.privateKeyFile = env['DEMO_SSH_KEY_FILE'];
    if (node.password === undefined && node.privateKeyFile === undefined) {
      throw new ConfigError('DEMO_SSH_HOST is set: also set DEMO_SSH_PASSWORD or DEMO_SSH_KEY_FILE');
    }
    external.ssh = { nodes: [node], command: env['DEMO_SSH_COMMAND'] ?? 'echo pool-demo' };
  }
  if (env['DEMO_PG_URL'] !== undefined) external.pg = [{ id: 'pg-ext', connectionString: env['DEMO_PG_URL'] }];
  return config;
}

function readConfigFile(argv: readonly string[]): ConfigFile {
  const index = argv.indexOf('--config');
  if (index === -1) return {};
  const path = argv[index + 1];
  if (path === undefined) throw new ConfigError('--config needs a file path: --config demo.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as ConfigFile;
  } catch (error) {
    // Never echo the file: it may hold passwords.
    throw new ConfigError(`config file ${path} is not a valid JSON object (${(error as Error).name})`);
  }
}

function integer(name: string, value: unknown, min: number, max: number): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(value) ?? String(value)}`);
  }
  return number;
}

function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new ConfigError(`${name} is required when DEMO_SSH_HOST is set`);
  return value;
}

function list<T>(name: string, value: T[] | undefined): T[] {
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(`${name} must be a non-empty array`);
  return value;
}
