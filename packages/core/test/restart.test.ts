import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createPool, type ConnectionFactory, type PoolNode } from '@pool/core';

/** An echo server on 127.0.0.1 that can be stopped (every socket cut) and started again on its port. */
class EchoServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async start(): Promise<void> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = once(server, 'close');
    server.close();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

function echoFactory(port: number): ConnectionFactory<Socket, PoolNode> {
  return {
    create: (_node, { signal, invalidate }) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, signal });
        socket.once('connect', () => {
          socket.removeListener('error', reject);
          socket.on('error', (error) => invalidate(error));
          socket.once('close', () => invalidate(new Error('closed by the server')));
          resolve(socket);
        });
        socket.once('error', reject);
      }),
    destroy: (socket) => void socket.destroy(),
    isBroken: () => true,
  };
}

function roundTrip(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onData = (data: Buffer) => {
      if (data.toString() !== 'ping') return reject(new Error(`bad echo ${String(data)}`));
      done();
      resolve();
    };
    const onClose = () => {
      done();
      reject(new Error('socket closed during the round trip'));
    };
    const done = () => {
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write('ping');
  });
}

const servers: EchoServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

describe('a single backend restarting under load (real sockets)', () => {
  it('is served again within about a second of its return, not after a whole cooldownMs', async () => {
    const server = new EchoServer();
    servers.push(server);
    await server.start();
    // Default breaker: 5 failures open it, cooldownMs 10_000.
    const pool = createPool({ factory: echoFactory(server.port), maxPerNode: 4, acquireTimeoutMs: 1_000 });
    const started = performance.now();
    const log: Array<{ at: number; ok: boolean; code?: string }> = [];
    let isRunning = true;
    const worker = async () => {
      while (isRunning) {
        try {
          await pool.use(roundTrip);
          log.push({ at: performance.now() - started, ok: true });
        } catch (error) {
          log.push({ at: performance.now() - started, ok: false, code: (error as { code?: string }).code ?? 'other' });
          await sleep(5);
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await sleep(300);
    const stoppedAt = performance.now() - started;
    await server.stop();
    await sleep(300);
    await server.start(); // same port
    const backAt = performance.now() - started;
    await sleep(2_500);
    isRunning = false;
    await Promise.all(workers);
    await pool.drain();

    const failures = log.filter((entry) => !entry.ok);
    const firstSuccessAfter = log.find((entry) => entry.ok && entry.at > backAt);
    expect(log.filter((entry) => entry.ok && entry.at < stoppedAt).length).toBeGreaterThan(10);
    expect(failures.length).toBeGreaterThan(0); // the outage was seen
    expect(failures.some((entry) => entry.code === 'NODE_UNAVAILABLE')).toBe(true); // and opened the circuit
    expect(firstSuccessAfter, JSON.stringify(failures.slice(-5))).toBeDefined();
    expect(firstSuccessAfter!.at - backAt).toBeLessThan(2_000);
    // Once back, it stays served: no failure in the last second.
    const lastFailure = failures.at(-1)!;
    expect(lastFailure.at).toBeLessThan(backAt + 1_500);
    expect(pool.stats()).toMatchObject({ total: 0 });
  });
});
