import { afterEach, describe, expect, it } from 'vitest';
import type { EchoReply } from '@pool/testkit/grpc';
import { makePool, settle, startServer, tearDown, TestService, waitFor } from './helpers.js';

afterEach(tearDown);

describe('calls spread over channels', () => {
  it('1,000 concurrent unary calls fill 10 warm channels with 100 calls each, each its own HTTP/2 connection', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', target: server.target }], maxPerNode: 10, minIdlePerNode: 10 });
    await waitFor(() => pool.stats().idle === 10, 10_000, '10 warm channels');
    const client = pool.client(TestService);
    let maxLeases = 0;
    pool.on('acquire', () => {
      maxLeases = Math.max(maxLeases, pool.stats().leases);
    });
    const results = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        settle<EchoReply>((callback) => client.Unary({ message: String(i), delayMs: 200 }, callback)),
      ),
    );
    expect(results.filter((result) => result.error !== null)).toEqual([]);
    expect(results.map((result) => result.response?.message)).toEqual(Array.from({ length: 1_000 }, (_, i) => String(i)));
    const stats = pool.stats();
    expect(stats.created).toBe(10);
    expect(stats.leases).toBe(0);
    expect(maxLeases).toBe(1_000);
    // One client address per channel: ten separate connections, not one shared subchannel.
    expect(server.peers.size).toBe(10);
    const callsPerPeer = new Map<string, number>();
    for (const { response } of results) callsPerPeer.set(response?.peer ?? '', (callsPerPeer.get(response?.peer ?? '') ?? 0) + 1);
    expect([...callsPerPeer.values()]).toEqual(Array.from({ length: 10 }, () => 100));
    expect(server.maxActiveCalls).toBe(1_000);
  });

  it('1,000 concurrent unary calls on a cold pool open channels on demand, never more than maxPerNode', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', target: server.target }], maxPerNode: 10 });
    const client = pool.client(TestService);
    const results = await Promise.all(
      Array.from({ length: 1_000 }, () => settle<EchoReply>((callback) => client.Unary({ delayMs: 100 }, callback))),
    );
    expect(results.filter((result) => result.error !== null)).toEqual([]);
    const stats = pool.stats();
    expect(stats.created).toBeGreaterThan(1);
    expect(stats.created).toBeLessThanOrEqual(10);
    expect(server.peers.size).toBeGreaterThan(1);
    expect(server.peers.size).toBeLessThanOrEqual(stats.created);
    expect(stats.leases).toBe(0);
  });

  it('a burst after an idle spell reuses the channels it validates instead of opening more', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', target: server.target }], maxPerNode: 10 });
    const client = pool.client(TestService);
    const burst = () => Promise.all(Array.from({ length: 200 }, () => settle<EchoReply>((callback) => client.Unary({ delayMs: 50 }, callback))));
    expect((await burst()).filter((result) => result.error !== null)).toEqual([]);
    expect(pool.stats().created).toBe(2);
    // Idle past validateOnAcquire's 500 ms: both channels are validated for the next burst, and the
    // other 198 calls wait for those validations rather than open channels of their own.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await burst()).filter((result) => result.error !== null)).toEqual([]);
    await waitFor(() => pool.stats().creating === 0, 5_000, 'no create under way');
    expect(pool.stats().created).toBe(2);
  });

  it('maxLeasesPerConnection bounds the calls one channel carries', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', target: server.target }], maxPerNode: 2, maxLeasesPerConnection: 3 });
    const client = pool.client(TestService);
    const calls = Array.from({ length: 12 }, () => settle<EchoReply>((callback) => client.Unary({ delayMs: 300 }, callback)));
    await waitFor(() => pool.stats().leases === 6, 5_000, '6 leases');
    expect(pool.stats()).toMatchObject({ leases: 6, waiting: 6, total: 2 });
    const results = await Promise.all(calls);
    expect(results.every((result) => result.error === null)).toBe(true);
    expect(server.maxActiveCalls).toBe(6);
  });

  it('spreads over several nodes', async () => {
    const first = await startServer({ serverId: 'first' });
    const second = await startServer({ serverId: 'second' });
    const pool = makePool({
      nodes: [
        { id: 'first', target: first.target },
        { id: 'second', target: second.target },
      ],
      maxLeasesPerConnection: 10,
      balancer: 'round-robin',
    });
    const client = pool.client(TestService);
    const results = await Promise.all(
      Array.from({ length: 100 }, () => settle<EchoReply>((callback) => client.Unary({ delayMs: 20 }, callback))),
    );
    const servers = new Set(results.map((result) => result.response?.serverId));
    expect(servers).toEqual(new Set(['first', 'second']));
    const pinned = pool.client(TestService, { acquire: { node: 'second' } });
    const { response } = await settle<EchoReply>((callback) => pinned.Unary({}, callback));
    expect(response?.serverId).toBe('second');
  });
});
