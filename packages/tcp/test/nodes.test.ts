import { describe, expect, it } from 'vitest';
import { isPoolError, type Lease } from '@pool/core';
import { createTcpPool, type TcpNode, type TcpSocket } from '@pool/tcp';
import { echoRoundTrip, startTcpEchoServer } from '@pool/testkit/tcp';
import { cleanUpAfterEach, rejectionOf, waitFor } from './helpers.js';

const afterTest = cleanUpAfterEach();

async function startServers(count: number) {
  const servers = await Promise.all(Array.from({ length: count }, () => startTcpEchoServer()));
  return servers.map((server) => afterTest.stop(server));
}

describe('several nodes', () => {
  it('hold each node to maxPerNode and spread callers over all of them', async () => {
    const servers = await startServers(3);
    const [a, b, c] = servers;
    const pool = afterTest.close(createTcpPool({
      nodes: [a, b, c].map((server, i) => ({ id: `n${i}`, host: server!.host, port: server!.port })),
      maxPerNode: 2,
    }));
    const leases: Lease<TcpSocket, TcpNode>[] = [];
    for (let i = 0; i < 6; i++) leases.push(await pool.acquire());
    expect(servers.map((server) => server.openConnections)).toEqual([2, 2, 2]);
    const stats = pool.stats();
    expect(Object.values(stats.nodes).map((node) => node.total)).toEqual([2, 2, 2]);
    for (const lease of leases) {
      expect(lease.connection.remotePort).toBe(servers[Number(lease.node.id.slice(1))]?.port);
      expect(await echoRoundTrip(lease.connection, lease.node.id)).toBe(lease.node.id);
    }
    const error = await rejectionOf(pool.acquire({ timeoutMs: 100 }));
    expect(isPoolError(error, 'ACQUIRE_TIMEOUT')).toBe(true);
    await Promise.all(leases.map((lease) => lease.release()));
  });

  it('route an acquire naming a node to that node only, within its own limit', async () => {
    const [a, b] = await startServers(2);
    const pool = afterTest.close(createTcpPool({
      nodes: [
        { id: 'a', host: a!.host, port: a!.port },
        { id: 'b', host: b!.host, port: b!.port },
      ],
      maxPerNode: 1,
    }));
    const held = await pool.acquire({ node: 'b' });
    expect(held.connection.remotePort).toBe(b!.port);
    const waiting = rejectionOf(pool.acquire({ node: 'b', timeoutMs: 100 }));
    expect(await pool.use((socket) => socket.remotePort)).toBe(a!.port);
    expect(isPoolError(await waiting, 'ACQUIRE_TIMEOUT')).toBe(true);
    await held.release();
    expect(await pool.use((socket) => echoRoundTrip(socket, 'to b'), { node: 'b' })).toBe('to b');
  });

  it('add a node at run time, checking its endpoint, and remove one', async () => {
    const [a, b] = await startServers(2);
    const pool = afterTest.close(createTcpPool({ nodes: [{ id: 'a', host: a!.host, port: a!.port }] }));
    expect(() => pool.addNode({ id: 'bad', host: '127.0.0.1', port: 0 })).toThrow(/node\.port/);
    pool.addNode({ id: 'b', host: b!.host, port: b!.port });
    expect(await pool.use((socket) => echoRoundTrip(socket, 'hi b'), { node: 'b' })).toBe('hi b');
    await pool.removeNode('b');
    await waitFor('b to see its socket closed', () => b!.openConnections === 0);
    const error = await rejectionOf(pool.acquire({ node: 'b' }));
    expect(isPoolError(error, 'NODE_UNKNOWN')).toBe(true);
  });
});
