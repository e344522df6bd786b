import { describe, expect, it } from 'vitest';
import { createTcpPool } from '@pool/tcp';
import { echoRoundTrip, startTcpEchoServer } from '@pool/testkit/tcp';
import { cleanUpAfterEach, recordEvents, rejectionOf, waitFor } from './helpers.js';

const afterTest = cleanUpAfterEach();

async function setUp(options: Partial<Parameters<typeof createTcpPool>[0]> = {}) {
  const server = afterTest.stop(await startTcpEchoServer());
  const pool = afterTest.close(createTcpPool({ nodes: [{ id: 'echo', host: server.host, port: server.port }], ...options }));
  return { server, pool };
}

describe('request/response over an echo server', () => {
  it('answers through pool.use and reuses one socket for sequential calls', async () => {
    const { server, pool } = await setUp();
    const localPorts = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const reply = await pool.use(async (socket) => {
        localPorts.add(socket.localPort ?? -1);
        return echoRoundTrip(socket, `hello ${i}`);
      });
      expect(reply).toBe(`hello ${i}`);
    }
    expect(localPorts.size).toBe(1);
    expect(server.acceptedConnections).toBe(1);
    const stats = pool.stats();
    expect(stats.created).toBe(1);
    expect(stats.acquired).toBe(20);
    expect(stats.idle).toBe(1);
  });

  it('serves concurrent callers with one socket each, up to maxPerNode', async () => {
    const { server, pool } = await setUp({ maxPerNode: 3 });
    let inUse = 0;
    let maxInUse = 0;
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        pool.use(async (socket) => {
          inUse++;
          maxInUse = Math.max(maxInUse, inUse);
          try {
            return await echoRoundTrip(socket, `caller ${i}`);
          } finally {
            inUse--;
          }
        }),
      ),
    );
    expect(replies).toEqual(Array.from({ length: 30 }, (_, i) => `caller ${i}`));
    expect(maxInUse).toBe(3);
    expect(server.acceptedConnections).toBe(3);
    expect(pool.stats().created).toBe(3);
  });

  it('applies noDelay and keeps the socket open across leases', async () => {
    const { server, pool } = await setUp();
    const lease = await pool.acquire();
    expect(lease.connection.readyState).toBe('open');
    expect(lease.connection.remotePort).toBe(server.port);
    await lease.release();
    const again = await pool.acquire();
    expect(again.connection).toBe(lease.connection);
    expect(again.useCount).toBe(2);
    await again.release();
  });

  it('keeps the socket after an application error, destroys it after a socket error', async () => {
    const { pool } = await setUp();
    const destroyed = recordEvents(pool, 'destroy');
    const first = await pool.acquire();
    const socket = first.connection;
    await first.release();

    const appError = await rejectionOf(
      pool.use(async (s) => {
        await echoRoundTrip(s, 'ok');
        throw new Error('not found');
      }),
    );
    expect((appError as Error).message).toBe('not found');
    expect(pool.stats().destroyed).toBe(0);
    expect(await pool.use((s) => s)).toBe(socket);

    // An exchange cut short by a timeout leaves the reply in flight: never reuse that socket.
    const timedOut = await rejectionOf(pool.use((s) => echoRoundTrip(s, 'slow', AbortSignal.abort(new DOMException('t', 'TimeoutError')))));
    expect((timedOut as Error).name).toBe('TimeoutError');
    await waitFor('the timed-out socket to be destroyed', () => pool.stats().destroyed === 1);
    expect(destroyed[0]?.reason).toBe('broken');

    const reset = await rejectionOf(
      pool.use((s) => {
        s.destroy();
        throw Object.assign(new Error('write after destroy'), { code: 'ERR_STREAM_DESTROYED' });
      }),
    );
    expect((reset as NodeJS.ErrnoException).code).toBe('ERR_STREAM_DESTROYED');
    await waitFor('the reset socket to be destroyed', () => pool.stats().destroyed === 2);
    expect(await pool.use((s) => echoRoundTrip(s, 'fresh'))).toBe('fresh');
    expect(pool.stats().created).toBe(3);
  });

  it('destroys a socket released with unread bytes instead of handing them to the next user', async () => {
    const { pool } = await setUp();
    const destroyed = recordEvents(pool, 'destroy');
    const poolErrors = recordEvents(pool, 'error');
    const lease = await pool.acquire();
    lease.connection.write('nobody reads this\n');
    await waitFor('the echo to arrive', () => lease.connection.readableLength > 0);
    await lease.release();
    await waitFor('the socket to be destroyed', () => pool.stats().destroyed === 1);
    expect(destroyed[0]?.reason).toBe('broken');
    expect(String(destroyed[0]?.error)).toContain('unread bytes');
    expect(poolErrors).toEqual([]);
    expect(await pool.use((s) => echoRoundTrip(s, 'clean'))).toBe('clean');
  });

  it('drain closes every socket: created === destroyed and the server sees no connection', async () => {
    const { server, pool } = await setUp({ maxPerNode: 4 });
    await Promise.all(Array.from({ length: 8 }, (_, i) => pool.use((s) => echoRoundTrip(s, `${i}`))));
    expect(server.openConnections).toBe(4);
    await pool.drain();
    const stats = pool.stats();
    expect(stats.created).toBe(4);
    expect(stats.destroyed).toBe(4);
    expect(stats.total).toBe(0);
    await waitFor('the server to see every socket closed', () => server.openConnections === 0);
  });
});
