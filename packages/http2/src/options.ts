import type { ConnectionOptions } from 'node:tls';
import { type PoolNode, type PoolOptions, invalidOption as invalid, POOL_OPTION_NAMES, rejectUnknownOptions } from '@pool/core';
import type { Client } from 'undici';

/**
 * TLS (and socket) options for connecting to a node: `ca`, `cert`, `key`, `servername`,
 * `rejectUnauthorized`, `minVersion`, ... as for `tls.connect`. The host, port and ALPN come from
 * the node's origin and are set by the pool.
 */
export type Http2ConnectOptions = Omit<ConnectionOptions, 'host' | 'port' | 'path' | 'socket' | 'ALPNProtocols'> & {
  /** TCP keep-alive on the socket; default true. */
  keepAlive?: boolean;
  /** Delay before the first TCP keep-alive probe; default 60_000 ms. */
  keepAliveInitialDelay?: number;
};

/** One HTTP/2 backend. */
export interface Http2Node extends PoolNode {
  /**
   * `https://host:port` (HTTP/2 over TLS, ALPN h2) or `http://host:port` (h2c: cleartext HTTP/2
   * with prior knowledge). Scheme, host and port only: no path, query or credentials.
   */
  origin: string;
  /** TLS options for this node only, merged over the pool's `connect`. */
  connect?: Http2ConnectOptions;
}

/** A check run when the pool validates a session; resolve false (or throw) to retire it. */
export type Http2PingFunction = (client: Client, signal: AbortSignal) => Promise<boolean> | boolean;

/** undici Client options passed through unchanged (see undici's `Client` documentation). */
export type Http2ClientTuning = Pick<
  Client.Options,
  | 'maxHeaderSize'
  | 'maxResponseSize'
  | 'initialWindowSize'
  | 'connectionWindowSize'
  | 'localAddress'
  | 'strictContentLength'
  | 'autoSelectFamily'
  | 'autoSelectFamilyAttemptTimeout'
>;

export interface Http2PoolOptions extends Omit<PoolOptions<Client, Http2Node>, 'factory' | 'nodes'> {
  /** The backends; at least one. Nodes can be added later with `pool.addNode`. */
  nodes: Http2Node[];
  /** TLS options for every node (each node's `connect` is merged over them). Default none. */
  connect?: Http2ConnectOptions;
  /**
   * HTTP/2 sessions (undici Clients) per node; the pool's `maxPerNode`. Default 10. A new
   * session opens only when every open one is at its stream budget.
   */
  sessionsPerNode?: number;
  /**
   * Streams one session carries at once (undici's `pipelining`); the pool's
   * `maxLeasesPerConnection`. Each session is further capped by the server's
   * SETTINGS_MAX_CONCURRENT_STREAMS. Default 100.
   */
  maxLeasesPerConnection?: number;
  /** Time to the response headers; default 30_000 ms; 0 = none. A request may override it (`headersTimeout`). */
  headersTimeoutMs?: number;
  /**
   * Longest gap between two chunks of a response body; default 30_000 ms; 0 = none. This is what
   * ends the stream (and frees its lease) when the caller never reads a large body. A request may
   * override it (`bodyTimeout`).
   */
  bodyTimeoutMs?: number;
  /** HTTP/2 PING keep-alive interval of each session; default 60_000 ms; 0 = off. */
  pingIntervalMs?: number;
  /**
   * Extra check when the pool validates a session (on acquire after idling, and in the background):
   * `true` sends an HTTP/2 PING and waits for its ack; a function may do anything (e.g. GET /health).
   * Default false: a session is valid while it is connected and has not received GOAWAY.
   */
  ping?: boolean | Http2PingFunction;
  /**
   * Retry once, on another session, a request that failed because its session went away (GOAWAY,
   * connection lost, stream refused) before any response headers arrived, when the request is
   * idempotent (GET, HEAD, OPTIONS, or `idempotent: true`) and its body can be sent again.
   * Default true.
   */
  retryOnSessionLoss?: boolean;
  /** Further undici Client options, passed through. Default none. */
  client?: Http2ClientTuning;
  /**
   * Send a request whose `origin` is no node's to a node the balancer picks (its `:authority`
   * becomes that node's). Default false: such a request fails `PoolError('INVALID_OPTIONS')`
   * naming `origin`, so a pool installed with `setGlobalDispatcher` never carries a request (and
   * its headers, cookies, tokens) meant for another host to one of its own nodes.
   */
  anyOrigin?: boolean;
}

export interface ResolvedHttp2Options {
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  pingIntervalMs: number;
  ping: boolean | Http2PingFunction;
  retryOnSessionLoss: boolean;
  anyOrigin: boolean;
  connect: Http2ConnectOptions | undefined;
  client: Http2ClientTuning | undefined;
  maxLeasesPerConnection: number;
  connectTimeoutMs: number;
}

const transportKeys = [
  'connect',
  'sessionsPerNode',
  'headersTimeoutMs',
  'bodyTimeoutMs',
  'pingIntervalMs',
  'ping',
  'retryOnSessionLoss',
  'client',
  'anyOrigin',
] as const;

/** Core's option names a transport passes through; the factory is the transport's own. */
const CORE_OPTION_NAMES = POOL_OPTION_NAMES.filter((name) => name !== 'factory');

/** Every top-level name `createHttp2Pool` accepts: a misspelled one is refused, naming the nearest. */
const KNOWN_OPTION_NAMES = new Set<string>(['nodes', ...transportKeys, ...CORE_OPTION_NAMES]);

/** The undici Client options `client` passes through (the keys of {@link Http2ClientTuning}). */
const CLIENT_TUNING: Record<keyof Http2ClientTuning, true> = {
  maxHeaderSize: true, maxResponseSize: true, initialWindowSize: true, connectionWindowSize: true,
  localAddress: true, strictContentLength: true, autoSelectFamily: true, autoSelectFamilyAttemptTimeout: true,
};
const CLIENT_TUNING_NAMES = new Set(Object.keys(CLIENT_TUNING));

/**
 * The names `connect` may use: the `Record` keeps them in step with {@link Http2ConnectOptions}
 * (tls.connect's, minus the ones the pool sets), plus undici's connector's `maxCachedSessions`.
 * A misspelled name (`rejectUnauthorised`, `serverName`) is refused instead of ignored.
 */
const CONNECT: Record<keyof Http2ConnectOptions, true> = {
  checkServerIdentity: true, servername: true, session: true, minDHSize: true, lookup: true, timeout: true,
  pskCallback: true, ALPNCallback: true, allowPartialTrustChain: true, ca: true, cert: true, sigalgs: true,
  ciphers: true, clientCertEngine: true, crl: true, dhparam: true, ecdhCurve: true, honorCipherOrder: true, key: true,
  privateKeyEngine: true, privateKeyIdentifier: true, maxVersion: true, minVersion: true, passphrase: true, pfx: true,
  secureOptions: true, secureProtocol: true, sessionIdContext: true, ticketKeys: true, sessionTimeout: true,
  secureContext: true, enableTrace: true, requestCert: true, SNICallback: true, rejectUnauthorized: true,
  keepAlive: true, keepAliveInitialDelay: true,
};
const CONNECT_NAMES = new Set([...Object.keys(CONNECT), 'maxCachedSessions']);

export const DEFAULT_STREAMS_PER_SESSION = 100;

/**
 * Validates the transport options (core validates the pool options itself) and splits them
 * from the options passed to `createPool`.
 */
export function resolveHttp2Options(options: Http2PoolOptions): {
  transport: ResolvedHttp2Options;
  poolOptions: Omit<PoolOptions<Client, Http2Node>, 'factory'>;
} {
  if (options === null || typeof options !== 'object') {
    throw invalid('options', options, 'must be an object');
  }
  rejectUnknownOptions(options, KNOWN_OPTION_NAMES);
  if (!Array.isArray(options.nodes) || options.nodes.length === 0) {
    throw invalid('nodes', Array.isArray(options.nodes) ? [] : typeof options.nodes, 'must be a non-empty array of { id, origin }');
  }
  options.nodes.forEach((node, index) => checkNode(node, `nodes[${index}]`));
  checkConnect('connect', options.connect);
  checkObject('client', options.client);
  if (options.client !== undefined) rejectUnknownOptions(options.client, CLIENT_TUNING_NAMES, 'client.');
  const headersTimeoutMs = checkInteger('headersTimeoutMs', options.headersTimeoutMs, 30_000, 0);
  const bodyTimeoutMs = checkInteger('bodyTimeoutMs', options.bodyTimeoutMs, 30_000, 0);
  const pingIntervalMs = checkInteger('pingIntervalMs', options.pingIntervalMs, 60_000, 0);
  const ping = options.ping ?? false;
  if (typeof ping !== 'boolean' && typeof ping !== 'function') {
    throw invalid('ping', ping, 'must be a boolean or a function (client, signal) => boolean');
  }
  const retryOnSessionLoss = options.retryOnSessionLoss ?? true;
  if (typeof retryOnSessionLoss !== 'boolean') {
    throw invalid('retryOnSessionLoss', retryOnSessionLoss, 'must be a boolean');
  }
  const anyOrigin = options.anyOrigin ?? false;
  if (typeof anyOrigin !== 'boolean') throw invalid('anyOrigin', anyOrigin, 'must be a boolean');
  if (options.sessionsPerNode !== undefined) {
    checkInteger('sessionsPerNode', options.sessionsPerNode, 0, 1);
    if (options.maxPerNode !== undefined && options.maxPerNode !== options.sessionsPerNode) {
      throw invalid('sessionsPerNode', options.sessionsPerNode, `must equal maxPerNode (${String(options.maxPerNode)}) when both are given; it is the same limit`);
    }
  }

  const poolOptions: Record<string, unknown> = { ...options };
  for (const key of transportKeys) delete poolOptions[key];
  poolOptions['name'] ??= options.nodes[0]?.origin;
  const maxLeasesPerConnection = options.maxLeasesPerConnection ?? DEFAULT_STREAMS_PER_SESSION;
  poolOptions['maxLeasesPerConnection'] = maxLeasesPerConnection;
  if (options.sessionsPerNode !== undefined) poolOptions['maxPerNode'] = options.sessionsPerNode;
  // Sessions are retired from their own events (GOAWAY, close, error), so without a ping a check
  // before each acquire finds nothing those have not; it would only delay the first stream.
  if (options.validateOnAcquire === undefined) poolOptions['validateOnAcquire'] = ping === false ? false : { idleForMs: 500 };

  return {
    transport: {
      headersTimeoutMs,
      bodyTimeoutMs,
      pingIntervalMs,
      ping,
      retryOnSessionLoss,
      anyOrigin,
      connect: options.connect,
      client: options.client,
      // Core rejects a bad value in createPool; until then keep undici's constructor happy.
      maxLeasesPerConnection: Number.isInteger(maxLeasesPerConnection) && maxLeasesPerConnection >= 1
        ? maxLeasesPerConnection
        : DEFAULT_STREAMS_PER_SESSION,
      connectTimeoutMs: typeof options.createTimeoutMs === 'number' && options.createTimeoutMs > 0 ? options.createTimeoutMs : 10_000,
    },
    poolOptions: poolOptions as Omit<PoolOptions<Client, Http2Node>, 'factory'>,
  };
}

/** Validates one node (also used by `pool.addNode`). */
export function checkNode(node: unknown, name: string): asserts node is Http2Node {
  if (node === null || typeof node !== 'object') throw invalid(name, node === null ? null : typeof node, 'must be an object { id, origin }');
  const { id, origin, connect } = node as Partial<Http2Node>;
  if (typeof id !== 'string' || id === '') throw invalid(`${name}.id`, id, 'must be a non-empty string');
  if (typeof origin !== 'string') throw invalid(`${name}.origin`, origin, 'must be a string like "https://host:port"');
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw invalid(`${name}.origin`, redactOrigin(origin), 'must be a URL like "https://host:port"');
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid(`${name}.origin`, redactOrigin(origin), 'must not carry credentials; send them in request headers');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalid(`${name}.origin`, origin, 'must use https: (HTTP/2 over TLS) or http: (h2c, prior knowledge)');
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw invalid(`${name}.origin`, origin, 'must be scheme://host:port only, without a path, query or fragment');
  }
  checkConnect(`${name}.connect`, connect);
}

/** `new URL(origin).origin`, the form the pool compares request origins with. */
export function normalizeOrigin(origin: string): string {
  return new URL(origin).origin;
}

function checkConnect(name: string, value: unknown): void {
  checkObject(name, value);
  if (value === undefined) return;
  const forbidden = ['host', 'port', 'path', 'socket', 'ALPNProtocols'].find((key) => key in (value as object));
  if (forbidden !== undefined) {
    throw invalid(`${name}.${forbidden}`, '(set)', 'is set by the pool from the node origin; remove it');
  }
  rejectUnknownOptions(value as object, CONNECT_NAMES, `${name}.`);
}

function checkObject(name: string, value: unknown): void {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    // Describe the value, never print it: TLS options hold private keys.
    throw invalid(name, value === null ? null : Array.isArray(value) ? 'an array' : typeof value, 'must be an object');
  }
}

function checkInteger(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 2_147_483_647) {
    throw invalid(name, value, `must be an integer >= ${min} (milliseconds or a count, below 2^31)`);
  }
  return value;
}

export function redactOrigin(origin: string): string {
  return origin.replace(/\/\/[^@/]*@/, '//***@');
}

