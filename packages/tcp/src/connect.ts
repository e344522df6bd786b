import net from 'node:net';
import tls from 'node:tls';
import { describeNode, type TcpNode, type TcpSettings, type TcpSocket } from './options.js';

/** The connect (TCP connect plus TLS handshake) took longer than `connectTimeoutMs`. */
export class ConnectTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';

  constructor(node: TcpNode, timeoutMs: number) {
    super(`connect to ${describeNode(node)} timed out after ${timeoutMs} ms`);
    this.name = 'ConnectTimeoutError';
  }
}

/** Starts connecting; the caller attaches its listeners, then awaits `whenConnected`. */
export function openSocket(node: TcpNode, settings: TcpSettings): TcpSocket {
  let socket: TcpSocket;
  if (node.tls === undefined) {
    socket = net.connect({ host: node.host, port: node.port });
  } else {
    const tlsOptions = node.tls === true ? {} : node.tls;
    // host and port come from the node; everything else (ca, servername, ...) from its tls options.
    socket = tls.connect({ ...tlsOptions, host: node.host, port: node.port });
  }
  socket.setNoDelay(settings.noDelay);
  return socket;
}

/**
 * Resolves once the socket is connected (and, for TLS, the handshake verified). Rejects with the
 * socket's error, a ConnectTimeoutError, or the signal's reason, destroying the socket.
 */
export function whenConnected(
  socket: TcpSocket,
  node: TcpNode,
  settings: TcpSettings,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const readyEvent = node.tls === undefined ? 'connect' : 'secureConnect';
    const settle = (error?: unknown) => {
      clearTimeout(timer);
      socket.off(readyEvent, onReady);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) {
        resolve();
      } else {
        socket.destroy();
        reject(error);
      }
    };
    const onReady = () => settle();
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(new Error(`connection to ${describeNode(node)} closed while connecting`));
    const onAbort = () => settle(signal.reason ?? new Error(`connect to ${describeNode(node)} aborted`));
    const timer = setTimeout(() => settle(new ConnectTimeoutError(node, settings.connectTimeoutMs)), settings.connectTimeoutMs);
    if (signal.aborted) {
      onAbort();
      return;
    }
    socket.once(readyEvent, onReady);
    socket.once('error', onError);
    socket.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
