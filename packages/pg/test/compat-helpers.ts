import net from 'node:net';
import pg from 'pg';
import { Pool, type PgPoolCompatConfig } from '@pool/pg/compat';
import { connectionOf, type PostgresForFile } from './helpers.js';

/** A facade on the file's server; ended after the file unless the test ended it. */
export function poolFor(postgres: PostgresForFile) {
  return (config: PgPoolCompatConfig = {}): Pool => {
    const pool = new Pool({ ...connectionOf(postgres.server), ...config });
    postgres.closeAfterAll(async () => {
      if (!pool.ending) await pool.end();
    });
    return pool;
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on (connects are refused). */
export async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server that accepts and never answers (a connect that hangs), closed by the caller. */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** pg.Client whose next connects are delayed or failed as scripted (pg-pool's tests patch Client.prototype). */
export function scriptedClient(script: ((connect: (cb: (error?: Error) => void) => void, cb: (error?: Error) => void) => void)[]): typeof pg.Client {
  return class ScriptedClient extends pg.Client {
    override connect(callback?: unknown): never {
      const step = script.shift();
      const cb = (callback ?? (() => undefined)) as unknown as (error?: Error) => void;
      const real = (done: (error?: Error) => void) => super.connect(done as never);
      if (step) step(real, cb);
      else real(cb);
      return undefined as never;
    }
  };
}
