import { describe, expect, it } from 'vitest';
import { createTcpPool, type TcpPoolOptions } from '@pool/tcp';
import { invalidOptionsError } from '@pool/testkit';

const node = { id: 'a', host: '127.0.0.1', port: 7000 };

const optionsError = (options: unknown): Error => invalidOptionsError(() => createTcpPool(options as TcpPoolOptions));

describe('option validation', () => {
  it.each([
    [{}, /nodes/],
    [{ nodes: 'a:7000' }, /nodes/],
    [{ nodes: [null] }, /nodes\[0\]/],
    [{ nodes: [{ ...node, id: '' }] }, /nodes\[0\]\.id/],
    [{ nodes: [{ ...node, host: '' }] }, /nodes\[0\]\.host/],
    [{ nodes: [{ ...node, host: 7 }] }, /nodes\[0\]\.host/],
    [{ nodes: [node, { ...node, id: 'b', port: 0 }] }, /nodes\[1\]\.port: got 0/],
    [{ nodes: [{ ...node, port: 65_536 }] }, /nodes\[0\]\.port: got 65536, must be an integer from 1 to 65535/],
    [{ nodes: [{ ...node, port: '7000' }] }, /nodes\[0\]\.port/],
    [{ nodes: [{ ...node, tls: 'yes' }] }, /nodes\[0\]\.tls/],
    [{ nodes: [node], connectTimeoutMs: 0 }, /connectTimeoutMs: got 0/],
    [{ nodes: [node], connectTimeoutMs: Number.NaN }, /connectTimeoutMs/],
    [{ nodes: [node], keepAlive: 'yes' }, /keepAlive: got "yes", must be true or false/],
    [{ nodes: [node], keepAliveInitialDelayMs: -1 }, /keepAliveInitialDelayMs/],
    [{ nodes: [node], noDelay: 1 }, /noDelay/],
    [{ nodes: [node], ping: 'PING' }, /ping/],
    [{ nodes: [node], pingTimeoutMs: 0 }, /pingTimeoutMs/],
    [{ nodes: [node], maxPerNode: 0 }, /maxPerNode/],
    [{ nodes: [node], maxLeasesPerConnection: 4 }, /maxLeasesPerConnection: got 4, must be 1/],
    [{ nodes: [node, node] }, /id/],
  ])('rejects %j with a message naming the option', (options, pattern) => {
    expect(optionsError(options).message).toMatch(pattern);
  });

  it('never prints TLS options, which may hold a key', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----';
    const message = optionsError({ nodes: [{ ...node, tls: key }] }).message;
    expect(message).toContain('nodes[0].tls');
    expect(message).not.toContain('secret');
    expect(message).not.toContain('PRIVATE KEY');
  });

  it('accepts the documented defaults and creates no socket before the first acquire', async () => {
    const pool = createTcpPool({ nodes: [node] });
    expect(pool.stats().total).toBe(0);
    await pool.close();
  });
});

describe('pool name', () => {
  it('defaults to the first host, and name overrides it', async () => {
    const nodes = [{ id: 'a', host: 'localhost', port: 1 }];
    const pool = createTcpPool({ nodes });
    const named = createTcpPool({ nodes, name: 'raft-peers' });
    expect(pool.stats().name).toBe('localhost');
    expect(named.stats().name).toBe('raft-peers');
    await Promise.all([pool.close(), named.close()]);
  });
});
