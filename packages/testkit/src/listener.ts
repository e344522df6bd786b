import { once } from 'node:events';
import type net from 'node:net';

export interface RestartableListenerOptions {
  host: string;
  /** 0 for an ephemeral port; every later `listen` reuses the port the first one got. */
  port: number;
  /** A fresh server for each listen, its connection handlers attached. */
  createServer: () => net.Server;
  /** Destroys the connections the caller tracks; `stop()` calls it before closing the server. */
  destroyConnections: () => void;
}

/** One port's listening lifecycle, shared by the embedded peers: listen, stop, listen again. */
export interface RestartableListener {
  /** The bound port; the same after `restart()`. */
  readonly port: number;
  /**
   * Stops listening, destroys every connection, then listens again on the same port, the way a
   * restarted peer process does. `downtimeMs` (default 0) is the gap between the two.
   */
  restart(options?: { downtimeMs?: number }): Promise<void>;
  /** Stops listening and destroys every connection. Idempotent. */
  stop(): Promise<void>;
}

/** Listens on `host:port` with `createServer()` and resolves once the server is listening. */
export async function startRestartableListener(options: RestartableListenerOptions): Promise<RestartableListener> {
  let listening: net.Server | undefined;
  let port = options.port;

  const listen = async () => {
    const server = options.createServer();
    server.on('error', () => {});
    const listeningPromise = once(server, 'listening');
    server.listen({ host: options.host, port, exclusive: true });
    await listeningPromise;
    port = (server.address() as net.AddressInfo).port;
    listening = server;
  };

  const stop = async () => {
    const server = listening;
    listening = undefined;
    options.destroyConnections();
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  await listen();

  return {
    get port() {
      return port;
    },
    async restart({ downtimeMs = 0 } = {}) {
      await stop();
      if (downtimeMs > 0) await new Promise((resolve) => setTimeout(resolve, downtimeMs));
      await listen();
    },
    stop,
  };
}
