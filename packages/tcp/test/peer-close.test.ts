import { afterEach, describe, expect, it } from 'vitest';
import { createTcpPool } from '@pool/tcp';
import { echoRoundTrip, startTcpEchoServer } from '@pool/testkit/tcp';
import { cleanUpAfterEach, recordEvents, rejectionOf, sleep, waitFor } from './helpers.js';

const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

const afterTest = cleanUpAfterEach();
// Registered after cleanUpAfterEach, so it runs first: vitest runs after-hooks in reverse order.
afterEach(() => {
  process.off('uncaughtException', onUncaught);
});

async function setUp(serverOptions: Parameters<typeof startTcpEchoServer>[0] = {}, poolOptions: Partial<Parameters<typeof createTcpPool>[0]> = {}) {
  uncaught.length = 0;
  process.on('uncaughtException', onUncaught);
  const server = afterTest.stop(await startTcpEchoServer(serverOptions));
  // No validation on acquire: the pool must notice peer closes from socket events alone.
  const pool = afterTest.close(createTcpPool({
    nodes: [{ id: 'echo', host: server.host, port: server.port }],
    validateOnAcquire: false,
    healthCheckIntervalMs: 0,
    ...poolOptions,
  }));
  return { server, pool };
}

describe('a peer closing idle sockets', () => {
  for (const closeIdleWith of ['end', 'reset'] as const) {
    it(`evicts an idle socket the peer closed with ${closeIdleWith === 'end' ? 'FIN' : 'RST'} at once, without an acquire`, async () => {
      const { pool } = await setUp({ closeIdleAfterMs: 100, closeIdleWith });
      const destroyed = recordEvents(pool, 'destroy');
      expect(await pool.use((s) => echoRoundTrip(s, 'one'))).toBe('one');
      expect(pool.stats().idle).toBe(1);
      await waitFor('the closed idle socket to be destroyed', () => pool.stats().total === 0, 2_000);
      expect(destroyed.map((event) => event.reason)).toEqual(['broken']);
      expect(await pool.use((s) => echoRoundTrip(s, 'two'))).toBe('two');
      expect(pool.stats().created).toBe(2);
      expect(uncaught).toEqual([]);
    });
  }

  it('never hands out a socket the peer closed while it was idle', async () => {
    const { server, pool } = await setUp({}, { maxPerNode: 4 });
    await Promise.all(Array.from({ length: 4 }, (_, i) => pool.use((s) => echoRoundTrip(s, `warm ${i}`))));
    expect(pool.stats().idle).toBe(4);
    const failures: unknown[] = [];
    for (const how of ['end', 'reset', 'end'] as const) {
      server.dropConnections(how);
      await waitFor('every dropped socket to be evicted', () => pool.stats().idle === 0 && pool.stats().total === 0);
      const replies = await Promise.all(
        Array.from({ length: 12 }, (_, i) => pool.use((s) => echoRoundTrip(s, `after ${how} ${i}`)).catch((error: unknown) => failures.push(error))),
      );
      expect(replies).toHaveLength(12);
    }
    expect(failures).toEqual([]);
    expect(uncaught).toEqual([]);
  });

  it('destroys a socket the peer closed during a lease when it is released, and never reuses it', async () => {
    const { server, pool } = await setUp();
    const destroyed = recordEvents(pool, 'destroy');
    const lease = await pool.acquire();
    const closed = new Promise((resolve) => lease.connection.once('close', resolve));
    server.dropConnections('end');
    await closed;
    expect(pool.stats().active).toBe(1);
    await lease.release();
    await waitFor('the socket to be destroyed', () => pool.stats().total === 0);
    expect(destroyed[0]?.reason).toBe('broken');
    const next = await pool.acquire();
    expect(next.connection).not.toBe(lease.connection);
    expect(await echoRoundTrip(next.connection, 'new')).toBe('new');
    await next.release();
  });
});

describe('a socket the user closed', () => {
  it('is destroyed on release when the user half-closed or destroyed it', async () => {
    const { pool } = await setUp({}, { maxPerNode: 2 });
    const destroyed = recordEvents(pool, 'destroy');
    const halfClosed = await pool.acquire();
    const gone = await pool.acquire();
    halfClosed.connection.end();
    gone.connection.destroy();
    await halfClosed.release();
    await gone.release();
    await waitFor('both sockets to be destroyed', () => pool.stats().total === 0);
    expect(destroyed.map((event) => event.reason)).toEqual(['broken', 'broken']);
    expect(await pool.use((s) => echoRoundTrip(s, 'fresh'))).toBe('fresh');
  });
});

describe("a socket 'error' event", () => {
  it('is never uncaught, on an idle socket or on a leased one without a user listener', async () => {
    const { server, pool } = await setUp({}, { maxPerNode: 2 });
    const idle = await pool.acquire();
    const leased = await pool.acquire();
    await idle.release();
    const idleErrored = new Promise((resolve) => idle.connection.once('close', resolve));
    const leasedErrored = new Promise((resolve) => leased.connection.once('close', resolve));
    server.dropConnections('reset');
    await Promise.all([idleErrored, leasedErrored]);
    await sleep(20);
    expect(uncaught).toEqual([]);
    // The caller still holding the lease learns it from the socket, then gives it back.
    const error = await rejectionOf(echoRoundTrip(leased.connection, 'anyone?'));
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    await leased.release();
    await waitFor('both sockets to be destroyed', () => pool.stats().total === 0);
    expect(pool.stats().destroyed).toBe(2);
  });

  it('inside pool.use destroys the socket and reaches the caller as the socket error', async () => {
    const { server, pool } = await setUp();
    const error = await rejectionOf(
      pool.use(async (socket) => {
        const reply = echoRoundTrip(socket, 'first');
        await reply;
        const second = echoRoundTrip(socket, 'second');
        server.dropConnections('reset');
        return second;
      }),
    );
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    await waitFor('the socket to be destroyed', () => pool.stats().total === 0);
    expect(uncaught).toEqual([]);
  });
});
