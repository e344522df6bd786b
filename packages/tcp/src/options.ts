import net from 'node:net';
import type tls from 'node:tls';
import { type PoolNode, type PoolOptions, invalidOption, POOL_OPTION_NAMES, rejectUnknownOptions } from '@pool/core';
import { TLS_OPTION_NAMES } from './tls-option-names.js';

/** A pooled connection: a plain TCP socket, or a TLS socket for nodes with `tls`. */
export type TcpSocket = net.Socket | tls.TLSSocket;

/** One TCP peer. */
export interface TcpNode extends PoolNode {
  id: string;
  /** Host name or IP address. */
  host: string;
  /** TCP port, 1..65535. */
  port: number;
  /**
   * Connect with TLS. `true` uses Node's defaults (the system CAs, certificate and host name
   * verified); an object is passed to `tls.connect` (`ca`, `cert`, `key`, `servername`, ...).
   * Verification stays on unless you set `rejectUnauthorized: false` yourself.
   */
  tls?: tls.ConnectionOptions | true;
}

/**
 * A user check run when the pool validates an idle socket (see `validateOnAcquire`,
 * `healthCheckIntervalMs`). Resolve `false` (or throw) when the socket is not usable.
 * It writes into your protocol, so only you can write it; the pool never sends bytes of its own.
 */
export type TcpPing = (socket: TcpSocket, signal: AbortSignal) => Promise<boolean | void> | boolean | void;

export interface TcpPoolOptions extends Omit<PoolOptions<TcpSocket, TcpNode>, 'factory' | 'nodes'> {
  /** The peers; more can be added with `pool.addNode`. */
  nodes: TcpNode[];
  /** Bound on TCP connect plus TLS handshake, per attempt. Default 5_000 ms. */
  connectTimeoutMs?: number;
  /** Turn on TCP keep-alive probes, so a peer that vanished is noticed. Default true. */
  keepAlive?: boolean;
  /** Idle time before the first keep-alive probe. Default 30_000 ms. */
  keepAliveInitialDelayMs?: number;
  /** Disable Nagle's algorithm (small writes go out at once). Default true. */
  noDelay?: boolean;
  /** Optional protocol-level check; none by default. */
  ping?: TcpPing;
  /** Bound on one `ping`; past it the socket counts as broken. Default 5_000 ms. */
  pingTimeoutMs?: number;
}

/** The transport settings the factory uses, defaults filled in. */
export interface TcpSettings {
  connectTimeoutMs: number;
  keepAlive: boolean;
  keepAliveInitialDelayMs: number;
  noDelay: boolean;
  ping: TcpPing | undefined;
  pingTimeoutMs: number;
}

const TRANSPORT_KEYS = ['nodes', 'connectTimeoutMs', 'keepAlive', 'keepAliveInitialDelayMs', 'noDelay', 'ping', 'pingTimeoutMs'] as const;

/** Core's option names a transport passes through; the factory is the transport's own. */
const CORE_OPTION_NAMES = POOL_OPTION_NAMES.filter((name) => name !== 'factory');

/** Every top-level name `createTcpPool` accepts: a misspelled one is refused, naming the nearest. */
const KNOWN_OPTION_NAMES = new Set<string>([...TRANSPORT_KEYS, ...CORE_OPTION_NAMES]);

/** Splits the transport options from the core pool options, validating the former. */
export function resolveTcpOptions(options: TcpPoolOptions): {
  settings: TcpSettings;
  nodes: TcpNode[];
  poolOptions: Omit<PoolOptions<TcpSocket, TcpNode>, 'factory' | 'nodes'>;
} {
  if (options === null || typeof options !== 'object') throw invalidOption('options', options, 'must be an object');
  rejectUnknownOptions(options, KNOWN_OPTION_NAMES);
  const { nodes } = options;
  if (!Array.isArray(nodes)) throw invalidOption('nodes', nodes, 'must be an array of { id, host, port, tls? }');
  nodes.forEach((node, index) => checkTcpNode(node, `nodes[${index}]`));
  const settings: TcpSettings = {
    connectTimeoutMs: checkMs('connectTimeoutMs', options.connectTimeoutMs ?? 5_000, 1),
    keepAlive: checkBoolean('keepAlive', options.keepAlive ?? true),
    keepAliveInitialDelayMs: checkMs('keepAliveInitialDelayMs', options.keepAliveInitialDelayMs ?? 30_000, 0),
    noDelay: checkBoolean('noDelay', options.noDelay ?? true),
    ping: checkPing(options.ping),
    pingTimeoutMs: checkMs('pingTimeoutMs', options.pingTimeoutMs ?? 5_000, 1),
  };
  // A socket is a byte stream: two leases writing into it at once would interleave their bytes.
  if (options.maxLeasesPerConnection !== undefined && options.maxLeasesPerConnection !== 1) {
    throw invalidOption('maxLeasesPerConnection', options.maxLeasesPerConnection, 'must be 1 for TCP sockets (one exchange at a time)');
  }
  const poolOptions: Record<string, unknown> = { ...options };
  for (const key of TRANSPORT_KEYS) delete poolOptions[key];
  delete poolOptions['factory'];
  poolOptions['name'] ??= nodes[0]?.host;
  return { settings, nodes: [...nodes], poolOptions: poolOptions as Omit<PoolOptions<TcpSocket, TcpNode>, 'factory' | 'nodes'> };
}

/** Checks the endpoint fields of a node (core checks `id` uniqueness). */
export function checkTcpNode(node: unknown, option: string): asserts node is TcpNode {
  if (node === null || typeof node !== 'object') throw invalidOption(option, node, 'must be an object { id, host, port, tls? }');
  const { id, host, port, tls: tlsOptions } = node as Record<string, unknown>;
  if (typeof id !== 'string' || id.length === 0) throw invalidOption(`${option}.id`, id, 'must be a non-empty string');
  if (typeof host !== 'string' || host.length === 0) throw invalidOption(`${option}.host`, host, 'must be a non-empty host name or IP address');
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw invalidOption(`${option}.port`, port, 'must be an integer from 1 to 65535');
  }
  if (tlsOptions !== undefined && tlsOptions !== true && (tlsOptions === null || typeof tlsOptions !== 'object' || Array.isArray(tlsOptions))) {
    // Never print TLS options: they may hold a private key or passphrase.
    throw invalidOption(`${option}.tls`, tlsOptions, 'must be true or a tls.ConnectionOptions object', describeType(tlsOptions));
  }
  if (typeof tlsOptions === 'object') rejectUnknownOptions(tlsOptions, TLS_OPTION_NAMES, `${option}.tls.`);
}

function checkMs(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw invalidOption(option, value, `must be a finite number of ms >= ${min}`);
  }
  return value;
}

function checkBoolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidOption(option, value, 'must be true or false');
  return value;
}

function checkPing(value: unknown): TcpPing | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidOption('ping', value, 'must be a function (socket, signal) => boolean | Promise<boolean>');
  return value as TcpPing;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}


/** A name for log and error lines: `node "a" (127.0.0.1:7000)`. Never holds TLS material. */
export function describeNode(node: TcpNode): string {
  const host = net.isIPv6(node.host) ? `[${node.host}]` : node.host;
  return `node "${node.id}" (${host}:${node.port})`;
}
