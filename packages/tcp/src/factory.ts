import type { ConnectionFactory, CreateContext, ValidateContext } from '@pool/core';
import { openSocket, whenConnected } from './connect.js';
import { describeNode, type TcpNode, type TcpSettings, type TcpSocket } from './options.js';

/** What the factory knows about one socket, from its own listeners (never from the user's). */
interface SocketState {
  /** Calls the pool's invalidate once; a no-op until the socket is connected. */
  retire(reason: unknown): void;
  isRetired: boolean;
  hasPeerEnded: boolean;
  isClosed: boolean;
}

/** Error codes that mean the socket itself failed, so it must not carry another exchange. */
const BROKEN_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTCONN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CLOSED',
  'ERR_SOCKET_CLOSED_BEFORE_CONNECTION',
  'ERR_TLS_SOCKET_CLOSED',
]);

/** How long `destroy` waits for a graceful close (FIN, TLS close_notify) before it forces one. */
const DESTROY_GRACE_MS = 1_000;

/** The factory behind `createTcpPool`: connects, watches idle sockets, validates without writing. */
export function createTcpFactory(settings: TcpSettings): ConnectionFactory<TcpSocket, TcpNode> {
  const states = new WeakMap<TcpSocket, SocketState>();

  const isUsable = (socket: TcpSocket): boolean => {
    const state = states.get(socket);
    return (
      state !== undefined &&
      !state.isRetired &&
      !state.hasPeerEnded &&
      !socket.destroyed &&
      socket.readyState === 'open' &&
      socket.writable &&
      !socket.writableEnded &&
      !socket.readableEnded
    );
  };

  return {
    async create(node: TcpNode, ctx: CreateContext): Promise<TcpSocket> {
      const socket = openSocket(node, settings);
      let isConnected = false;
      const state: SocketState = {
        isRetired: false,
        hasPeerEnded: false,
        isClosed: false,
        retire(reason) {
          if (!isConnected || state.isRetired) return;
          state.isRetired = true;
          ctx.invalidate(reason);
        },
      };
      states.set(socket, state);
      // Attached for the socket's whole life, before anything can fail: an 'error' on an idle or
      // leased socket is never uncaught, and a peer closing an idle socket retires it at once.
      socket.on('error', (error: Error) => state.retire(error));
      socket.on('end', () => {
        state.hasPeerEnded = true;
        state.retire(new Error(`${describeNode(node)} ended the connection`));
      });
      socket.on('close', () => {
        state.isClosed = true;
        state.retire(new Error(`connection to ${describeNode(node)} closed`));
      });
      await whenConnected(socket, node, settings, ctx.signal);
      isConnected = true;
      if (settings.keepAlive) socket.setKeepAlive(true, settings.keepAliveInitialDelayMs);
      return socket;
    },

    destroy(socket: TcpSocket): Promise<void> {
      const state = states.get(socket);
      if (state === undefined || state.isClosed || socket.closed) {
        socket.destroy();
        return Promise.resolve();
      }
      state.isRetired = true;
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(force);
          resolve();
        };
        const force = setTimeout(() => {
          socket.destroy();
          done();
        }, DESTROY_GRACE_MS);
        socket.once('close', done);
        if (socket.closed) done();
        if (socket.destroyed) return;
        // end() flushes pending writes and sends FIN (and TLS close_notify); no need to wait for
        // the peer's FIN, so the socket is destroyed as soon as our side is finished.
        socket.once('finish', () => socket.destroy());
        socket.end();
      });
    },

    async validate(socket: TcpSocket, ctx: ValidateContext<TcpNode>): Promise<boolean> {
      if (!isUsable(socket)) return false;
      // Bytes nobody read: a reply left over from an earlier exchange, or data the peer sent while
      // the socket was idle. Either way the next user would read someone else's bytes.
      if (socket.readableLength > 0) return false;
      if (settings.ping === undefined) return true;
      return (await runPing(settings, socket, ctx.signal)) && isUsable(socket);
    },

    // Retiring (rather than throwing) makes the pool destroy the socket with reason 'broken' and
    // this error on the 'destroy' event, without an 'error' event: it is not the pool's fault.
    reset(socket: TcpSocket): void {
      const state = states.get(socket);
      if (state === undefined || state.isRetired) return;
      if (!isUsable(socket)) state.retire(new Error('socket closed or half-closed during the lease'));
      else if (socket.readableLength > 0) state.retire(new Error(`socket released with ${socket.readableLength} unread bytes`));
    },

    isBroken(error: unknown, socket: TcpSocket): boolean {
      if (!isUsable(socket)) return true;
      if (error === null || typeof error !== 'object') return false;
      const { code, name } = error as { code?: unknown; name?: unknown };
      if (typeof code === 'string' && (BROKEN_CODES.has(code) || code.startsWith('ERR_SSL_'))) return true;
      // An exchange cut short by a timeout or an abort leaves its reply in flight: the next user
      // of this socket would read it.
      return name === 'AbortError' || name === 'TimeoutError';
    },
  };
}

/** Runs the user's ping bounded by pingTimeoutMs; a throw, `false`, or the timeout mean broken. */
async function runPing(settings: TcpSettings, socket: TcpSocket, poolSignal: AbortSignal): Promise<boolean> {
  const ping = settings.ping;
  if (ping === undefined) return true;
  const signal = AbortSignal.any([poolSignal, AbortSignal.timeout(settings.pingTimeoutMs)]);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<boolean>((resolve) => {
    onAbort = () => resolve(false);
    if (signal.aborted) resolve(false);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const result = await Promise.race([Promise.resolve(ping(socket, signal)).then((ok) => ok !== false), aborted]);
    return result && !signal.aborted;
  } catch {
    return false;
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}
