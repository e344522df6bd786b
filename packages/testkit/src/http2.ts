import http2 from 'node:http2';
import type net from 'node:net';
import { startRestartableListener } from './listener.js';

/**
 * Handles one request stream. Return `true` when the stream was answered; return anything else
 * to fall through to the built-in routes (see {@link startHttp2Server}).
 */
export type Http2StreamHandler = (
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  url: URL,
) => boolean | void;

export interface Http2TestServerOptions {
  /**
   * Serve HTTP/2 over TLS (ALPN `h2`) with this certificate and key (see `makeTestCertificates()`
   * in `@pool/testkit/tls`). Without it the server speaks h2c: cleartext HTTP/2 with prior knowledge.
   */
  tls?: { cert: string; key: string };
  /** Default `'127.0.0.1'`. */
  host?: string;
  /** Default 0 (an ephemeral port). `restart()` keeps the port it got. */
  port?: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS announced to every client. Default 100. */
  maxConcurrentStreams?: number;
  /** Tried before the built-in routes on every stream. */
  handler?: Http2StreamHandler;
}

export interface Http2TestServer {
  /** `https://127.0.0.1:<port>` with `tls`, else `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly host: string;
  /** The bound port; the same after `restart()`. */
  readonly port: number;
  readonly isSecure: boolean;
  /** HTTP/2 sessions open right now. */
  readonly openSessions: number;
  /** Sessions accepted since the server started (restarts included). */
  readonly acceptedSessions: number;
  /** Request streams received since the server started. */
  readonly streamsReceived: number;
  /** Request streams open right now, across sessions. */
  readonly openStreams: number;
  /** The most streams any one session had open at the same time. */
  readonly peakStreamsPerSession: number;
  /** The most sessions open at the same time. */
  readonly peakSessions: number;
  /** Forgets the peaks (`peakStreamsPerSession`, `peakSessions`), e.g. between phases of a test. */
  resetPeaks(): void;
  /**
   * Sends GOAWAY to every open session. `graceful` (default) is `session.close()`: GOAWAY NO_ERROR,
   * streams already open are answered, then the session closes. With `graceful: false` the server
   * sends GOAWAY with `code` (default 0) and `lastStreamId` (default 0: nothing was processed) and
   * destroys the session right after.
   */
  goaway(options?: { graceful?: boolean; code?: number; lastStreamId?: number }): void;
  /** Destroys every session and its socket without a GOAWAY, as a crashed peer does. */
  dropSessions(): void;
  /**
   * Stops listening, destroys every session, then listens again on the same port, the way a
   * restarted peer process does. `downtimeMs` (default 0) is the gap between the two.
   */
  restart(options?: { downtimeMs?: number }): Promise<void>;
  /** Stops listening and destroys every session. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts an HTTP/2 server (h2c, or TLS when `tls` is given) on 127.0.0.1 with an ephemeral port.
 * Built-in routes (any method):
 * - `/hello` -> 200 `hello`
 * - `/echo` -> 200, the request body back; `x-method` header = the request method
 * - `/delay?ms=N` -> 200 `delayed` after N ms
 * - `/bytes?n=N` -> 200 with an N-byte body
 * - `/status?code=N` -> that status, empty body
 * - `/hang` -> never answers (until the client resets the stream)
 * - `/session` -> 200 JSON `{ session, stream, scheme, method, path }` (session = accept order, from 1)
 * - anything else -> 404
 */
export async function startHttp2Server(options: Http2TestServerOptions = {}): Promise<Http2TestServer> {
  const host = options.host ?? '127.0.0.1';
  const maxConcurrentStreams = options.maxConcurrentStreams ?? 100;
  const isSecure = options.tls !== undefined;
  const sessions = new Set<http2.ServerHttp2Session>();
  const sockets = new Set<net.Socket>();
  const sessionNumbers = new WeakMap<http2.ServerHttp2Session, number>();
  const timers = new Set<NodeJS.Timeout>();
  let acceptedSessions = 0;
  let streamsReceived = 0;
  let openStreams = 0;
  let peakStreamsPerSession = 0;
  let peakSessions = 0;

  const onSession = (session: http2.ServerHttp2Session) => {
    acceptedSessions += 1;
    sessionNumbers.set(session, acceptedSessions);
    sessions.add(session);
    peakSessions = Math.max(peakSessions, sessions.size);
    let sessionStreams = 0;
    session.on('error', () => {});
    session.on('close', () => sessions.delete(session));
    session.on('stream', (stream, headers) => {
      streamsReceived += 1;
      openStreams += 1;
      sessionStreams += 1;
      peakStreamsPerSession = Math.max(peakStreamsPerSession, sessionStreams);
      stream.on('error', () => {});
      stream.once('close', () => {
        openStreams -= 1;
        sessionStreams -= 1;
      });
      const url = new URL(String(headers[':path'] ?? '/'), 'http://localhost');
      if (options.handler?.(stream, headers, url) === true) return;
      builtInRoute(stream, headers, url, sessionNumbers.get(session) ?? 0, timers);
    });
  };

  const makeServer = (): http2.Http2Server | http2.Http2SecureServer => {
    const settings = { maxConcurrentStreams };
    if (options.tls === undefined) return http2.createServer({ settings });
    const server = http2.createSecureServer({ cert: options.tls.cert, key: options.tls.key, settings });
    // Failed handshakes (a client that rejects our certificate) are expected in tests.
    server.on('tlsClientError', () => {});
    return server;
  };

  const listener = await startRestartableListener({
    host,
    port: options.port ?? 0,
    createServer: () => {
      const server = makeServer();
      server.on('session', onSession);
      server.on('connection', (socket: net.Socket) => {
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => sockets.delete(socket));
      });
      return server;
    },
    destroyConnections: () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
  });

  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    get origin() {
      return `${isSecure ? 'https' : 'http'}://${hostInUrl}:${listener.port}`;
    },
    host,
    get port() {
      return listener.port;
    },
    isSecure,
    get openSessions() {
      return sessions.size;
    },
    get acceptedSessions() {
      return acceptedSessions;
    },
    get streamsReceived() {
      return streamsReceived;
    },
    get openStreams() {
      return openStreams;
    },
    get peakStreamsPerSession() {
      return peakStreamsPerSession;
    },
    get peakSessions() {
      return peakSessions;
    },
    resetPeaks() {
      peakStreamsPerSession = 0;
      peakSessions = sessions.size;
    },
    goaway({ graceful = true, code = 0, lastStreamId = 0 } = {}) {
      for (const session of sessions) {
        if (session.closed || session.destroyed) continue;
        if (graceful) {
          session.close();
        } else {
          session.goaway(code, lastStreamId);
          // Let the GOAWAY frame reach the socket before the session goes.
          setImmediate(() => session.destroy());
        }
      }
    },
    dropSessions() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
    restart: listener.restart,
    stop: listener.stop,
  };
}

function builtInRoute(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  url: URL,
  sessionNumber: number,
  timers: Set<NodeJS.Timeout>,
): void {
  const method = String(headers[':method'] ?? 'GET');
  const respond = (status: number, body: string | Buffer = '', extra: http2.OutgoingHttpHeaders = {}) => {
    if (stream.destroyed || stream.closed) return;
    stream.respond({ ':status': status, ...extra });
    stream.end(body);
  };
  const intParam = (name: string, fallback: number) => {
    const value = Number(url.searchParams.get(name) ?? fallback);
    return Number.isFinite(value) && value >= 0 ? Math.floor(value) : fallback;
  };
  switch (url.pathname) {
    case '/hello':
      stream.resume();
      respond(200, 'hello', { 'content-type': 'text/plain' });
      return;
    case '/echo': {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.once('end', () => respond(200, Buffer.concat(chunks), { 'x-method': method }));
      return;
    }
    case '/delay': {
      stream.resume();
      const timer = setTimeout(() => {
        timers.delete(timer);
        respond(200, 'delayed');
      }, intParam('ms', 0));
      timers.add(timer);
      stream.once('close', () => {
        clearTimeout(timer);
        timers.delete(timer);
      });
      return;
    }
    case '/bytes':
      stream.resume();
      respond(200, Buffer.alloc(intParam('n', 0), 120), { 'content-type': 'application/octet-stream' });
      return;
    case '/status':
      stream.resume();
      respond(intParam('code', 200));
      return;
    case '/hang':
      stream.resume();
      return;
    case '/session':
      stream.resume();
      respond(
        200,
        JSON.stringify({ session: sessionNumber, stream: stream.id, scheme: headers[':scheme'], method, path: url.pathname }),
        { 'content-type': 'application/json' },
      );
      return;
    default:
      stream.resume();
      respond(404, 'not found');
  }
}
