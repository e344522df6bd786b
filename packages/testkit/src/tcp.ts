import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { startRestartableListener } from './listener.js';

/** What the server does with the bytes a client sends. */
export type TcpServerMode =
  /** Writes every byte back, unchanged. */
  | 'echo'
  /** Accepts the connection (and the TLS handshake is never answered either) and never writes a byte. */
  | 'silent';

export interface TcpTestServerOptions {
  /** Default `'echo'`. */
  mode?: TcpServerMode;
  /** Default `'127.0.0.1'`. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /**
   * Closes a connection that has received nothing for this many ms, the way servers with an idle
   * timeout do. Default 0 = never.
   */
  closeIdleAfterMs?: number;
  /** How an idle connection is closed: `'end'` sends FIN, `'reset'` sends RST. Default `'end'`. */
  closeIdleWith?: 'end' | 'reset';
  /**
   * Serve TLS with this certificate and key (see `makeTestCertificates()` in `@pool/testkit/tls`).
   * In `'silent'` mode the TLS handshake is never answered: the TCP connect succeeds, the handshake hangs.
   */
  tls?: { cert: string; key: string };
}

export interface TcpTestServer {
  readonly host: string;
  /** The bound port; the same after `restart()`. */
  readonly port: number;
  /** Connections open right now. */
  readonly openConnections: number;
  /** Connections accepted since the server started (restarts included). */
  readonly acceptedConnections: number;
  /** Bytes received from clients since the server started. */
  readonly bytesReceived: number;
  /** Destroys every open connection: `'end'` sends FIN, `'reset'` sends RST. */
  dropConnections(how?: 'end' | 'reset'): void;
  /**
   * Stops listening, destroys every connection, then listens again on the same port, the way a
   * restarted peer process does. `downtimeMs` (default 0) is the gap between the two.
   */
  restart(options?: { downtimeMs?: number }): Promise<void>;
  /** Stops listening and destroys every connection. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a TCP (or TLS) server on 127.0.0.1 with an ephemeral port, echoing by default.
 * Reusable by tests, benchmarks and the demo: `const server = await startTcpServer(); ... await server.stop();`
 */
export async function startTcpServer(options: TcpTestServerOptions = {}): Promise<TcpTestServer> {
  const mode = options.mode ?? 'echo';
  const host = options.host ?? '127.0.0.1';
  const closeIdleAfterMs = options.closeIdleAfterMs ?? 0;
  const closeIdleWith = options.closeIdleWith ?? 'end';
  const sockets = new Set<net.Socket>();
  let acceptedConnections = 0;
  let bytesReceived = 0;

  const closeSocket = (socket: net.Socket, how: 'end' | 'reset') => {
    if (how === 'reset') socket.resetAndDestroy();
    else socket.destroy();
  };

  const onSocket = (socket: net.Socket) => {
    acceptedConnections += 1;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    if (closeIdleAfterMs > 0) {
      socket.setTimeout(closeIdleAfterMs, () => closeSocket(socket, closeIdleWith));
    }
    socket.on('data', (chunk: Buffer) => {
      bytesReceived += chunk.length;
      if (mode === 'echo') socket.write(chunk);
    });
  };

  const makeServer = (): net.Server => {
    if (!options.tls) return net.createServer(onSocket);
    if (mode === 'silent') {
      // A plain TCP listener that never speaks: a TLS client's handshake hangs on it.
      return net.createServer(onSocket);
    }
    const server = tls.createServer({ cert: options.tls.cert, key: options.tls.key }, onSocket);
    // Failed handshakes (a client that rejects our certificate) are expected in tests.
    server.on('tlsClientError', () => {});
    return server;
  };

  const listener = await startRestartableListener({
    host,
    port: options.port ?? 0,
    createServer: makeServer,
    destroyConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
  });

  return {
    host,
    get port() {
      return listener.port;
    },
    get openConnections() {
      return sockets.size;
    },
    get acceptedConnections() {
      return acceptedConnections;
    },
    get bytesReceived() {
      return bytesReceived;
    },
    dropConnections(how = 'end') {
      for (const socket of sockets) closeSocket(socket, how);
    },
    restart: listener.restart,
    stop: listener.stop,
  };
}

/** Starts an echo server. Same as `startTcpServer({ ...options, mode: 'echo' })`. */
export function startTcpEchoServer(options: Omit<TcpTestServerOptions, 'mode'> = {}): Promise<TcpTestServer> {
  return startTcpServer({ ...options, mode: 'echo' });
}

/** Starts a server that accepts connections and never answers. */
export function startSilentTcpServer(options: Omit<TcpTestServerOptions, 'mode'> = {}): Promise<TcpTestServer> {
  return startTcpServer({ ...options, mode: 'silent' });
}

/**
 * A port on 127.0.0.1 that nothing listens on (connects to it are refused): bound, read, released.
 */
export async function findClosedPort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  server.listen({ host, port: 0, exclusive: true });
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * One request/response over an echo server: writes `line` plus a newline and resolves with the
 * line that comes back (without the newline). Rejects when the socket ends, closes or errors
 * first, or when `signal` aborts. Leaves no listener behind on the socket.
 */
export function echoRoundTrip(socket: net.Socket, line: string, signal?: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let received = '';
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.toString('utf8');
      const newline = received.indexOf('\n');
      if (newline === -1) return;
      cleanup();
      socket.pause();
      resolve(received.slice(0, newline));
    };
    const onEnd = () => {
      cleanup();
      const error = new Error('socket closed by the peer before the reply') as NodeJS.ErrnoException;
      error.code = 'ECONNRESET';
      reject(error);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onAbort = () => {
      cleanup();
      reject(signal?.reason);
    };
    if (socket.destroyed || socket.readableEnded) {
      onEnd();
      return;
    }
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    // A previous round trip paused the socket; a new 'data' listener does not resume a paused stream.
    socket.resume();
    socket.write(`${line}\n`);
  });
}
