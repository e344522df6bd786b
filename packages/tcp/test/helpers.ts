import { afterEach } from 'vitest';
import type { PoolEventName, PoolEvents } from '@pool/core';
import type { TcpPool } from '@pool/tcp';
import type { TcpTestServer } from '@pool/testkit/tcp';

/**
 * Registers, once per test file, an `afterEach` that closes the pools a test passed to `close`,
 * then stops the servers it passed to `stop`: no test leaves a socket or a listener behind.
 */
export function cleanUpAfterEach() {
  let pools: TcpPool[] = [];
  let servers: TcpTestServer[] = [];
  afterEach(async () => {
    const [closing, stopping] = [pools, servers];
    pools = [];
    servers = [];
    for (const pool of closing) await pool.close();
    await Promise.all(stopping.map((server) => server.stop()));
  });
  return {
    close(pool: TcpPool): TcpPool {
      pools.push(pool);
      return pool;
    },
    stop(server: TcpTestServer): TcpTestServer {
      servers.push(server);
      return server;
    },
  };
}

/** Polls `condition` every 5 ms; rejects with `what` when it is still false after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Records every payload of `event` emitted by `pool` from now on. */
export function recordEvents<E extends PoolEventName>(pool: TcpPool, event: E): PoolEvents[E][] {
  const seen: PoolEvents[E][] = [];
  pool.on(event, (payload) => {
    seen.push(payload);
  });
  return seen;
}

export { rejection as rejectionOf } from '@pool/testkit/expect';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
