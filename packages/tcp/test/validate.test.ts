import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createTcpPool } from '@pool/tcp';
import { echoRoundTrip, startTcpEchoServer } from '@pool/testkit/tcp';
import { cleanUpAfterEach, recordEvents, sleep, waitFor } from './helpers.js';

const afterTest = cleanUpAfterEach();

describe('validation', () => {
  it('never writes a byte of its own: only the user’s bytes reach the peer', async () => {
    const server = afterTest.stop(await startTcpEchoServer());
    const pool = afterTest.close(createTcpPool({
      nodes: [{ id: 'echo', host: server.host, port: server.port }],
      validateOnAcquire: true,
      validateOnRelease: true,
      healthCheckIntervalMs: 20,
    }));
    let sent = 0;
    for (let i = 0; i < 10; i++) {
      const line = `message ${i}`;
      sent += line.length + 1;
      await pool.use((socket) => echoRoundTrip(socket, line));
    }
    await sleep(120); // several health checks of the idle socket
    const health = await pool.health();
    expect(health.healthy).toBe(true);
    expect(pool.stats().validationFailures).toBe(0);
    expect(server.bytesReceived).toBe(sent);
    expect(pool.stats().created).toBe(1);
  });

  it('evicts an idle socket that received bytes nobody asked for', async () => {
    const server = afterTest.stop(await startTcpEchoServer());
    const pool = afterTest.close(createTcpPool({ nodes: [{ id: 'echo', host: server.host, port: server.port }], validateOnAcquire: true }));
    const lease = await pool.acquire();
    const socket = lease.connection;
    await lease.release();
    // Simulate a stray message from the peer by making the server echo bytes nobody will read.
    socket.write('stray\n');
    await waitFor('the stray bytes to arrive', () => socket.readableLength > 0);
    const reply = await pool.use((s) => {
      expect(s).not.toBe(socket);
      return echoRoundTrip(s, 'fresh');
    });
    expect(reply).toBe('fresh');
    expect(pool.stats().validationFailures).toBeGreaterThanOrEqual(1);
  });

  it('runs the user ping only when configured, and evicts a socket whose ping fails or hangs', async () => {
    const server = afterTest.stop(await startTcpEchoServer());
    const pings: net.Socket[] = [];
    // The next ping fails (or hangs) once, then pings pass again: a replacement socket is valid.
    let nextPing: 'ok' | 'fail' | 'hang' = 'ok';
    const pool = afterTest.close(createTcpPool({
      nodes: [{ id: 'echo', host: server.host, port: server.port }],
      validateOnAcquire: true,
      healthCheckIntervalMs: 0,
      pingTimeoutMs: 100,
      ping: async (socket, signal) => {
        pings.push(socket);
        const behaviour = nextPing;
        nextPing = 'ok';
        if (behaviour === 'fail') return false;
        if (behaviour === 'hang') return new Promise<boolean>(() => {});
        return (await echoRoundTrip(socket, 'PING', signal)) === 'PING';
      },
    }));
    const destroyed = recordEvents(pool, 'destroy');
    expect(await pool.use((socket) => echoRoundTrip(socket, 'one'))).toBe('one');
    expect(await pool.use((socket) => echoRoundTrip(socket, 'two'))).toBe('two');
    expect(pings.length).toBeGreaterThanOrEqual(1);
    expect(pool.stats().created).toBe(1);
    // Pings are the user's bytes: the server saw them, and nothing else besides the requests.
    expect(server.bytesReceived).toBe(pings.length * 'PING\n'.length + 'one\ntwo\n'.length);

    nextPing = 'fail';
    expect(await pool.use((socket) => echoRoundTrip(socket, 'three'))).toBe('three');
    expect(destroyed.map((event) => event.reason)).toEqual(['invalid']);
    expect(pool.stats().created).toBe(2);

    nextPing = 'hang';
    const started = Date.now();
    expect(await pool.use((socket) => echoRoundTrip(socket, 'four'))).toBe('four');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(destroyed.map((event) => event.reason)).toEqual(['invalid', 'invalid']);
    expect(pool.stats().created).toBe(3);
  });
});
