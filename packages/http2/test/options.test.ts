import { createHttp2Pool, type Http2PoolOptions } from '@pool/http2';
import { describe, expect, it } from 'vitest';
import { invalidOptionsError } from '@pool/testkit';

const invalid = (options: unknown): { code: string; message: string } => invalidOptionsError(() => createHttp2Pool(options as Http2PoolOptions));

const node = { id: 'a', origin: 'https://127.0.0.1:8443' };

describe('option validation', () => {
  it.each([
    ['nodes missing', {}, 'nodes'],
    ['nodes empty', { nodes: [] }, 'nodes'],
    ['node without id', { nodes: [{ origin: 'https://x:1' }] }, 'nodes[0].id'],
    ['origin not a URL', { nodes: [{ id: 'a', origin: 'not a url' }] }, 'nodes[0].origin'],
    ['origin with a path', { nodes: [{ id: 'a', origin: 'https://x:1/api' }] }, 'nodes[0].origin'],
    ['origin with another scheme', { nodes: [{ id: 'a', origin: 'ftp://x:1' }] }, 'nodes[0].origin'],
    ['connect not an object', { nodes: [node], connect: 'tls' }, 'connect'],
    ['connect setting the port', { nodes: [node], connect: { port: 1 } }, 'connect.port'],
    ['node connect setting ALPN', { nodes: [{ ...node, connect: { ALPNProtocols: ['h2'] } }] }, 'nodes[0].connect.ALPNProtocols'],
    ['sessionsPerNode 0', { nodes: [node], sessionsPerNode: 0 }, 'sessionsPerNode'],
    ['sessionsPerNode fractional', { nodes: [node], sessionsPerNode: 1.5 }, 'sessionsPerNode'],
    ['sessionsPerNode against maxPerNode', { nodes: [node], sessionsPerNode: 2, maxPerNode: 3 }, 'sessionsPerNode'],
    ['headersTimeoutMs negative', { nodes: [node], headersTimeoutMs: -1 }, 'headersTimeoutMs'],
    ['bodyTimeoutMs a string', { nodes: [node], bodyTimeoutMs: '10' }, 'bodyTimeoutMs'],
    ['pingIntervalMs NaN', { nodes: [node], pingIntervalMs: Number.NaN }, 'pingIntervalMs'],
    ['ping a string', { nodes: [node], ping: 'yes' }, 'ping'],
    ['retryOnSessionLoss a number', { nodes: [node], retryOnSessionLoss: 1 }, 'retryOnSessionLoss'],
    ['client options not an object', { nodes: [node], client: 5 }, 'client'],
    ['maxLeasesPerConnection 0 (core rule)', { nodes: [node], maxLeasesPerConnection: 0 }, 'maxLeasesPerConnection'],
  ])('%s', (_name, options, option) => {
    const error = invalid(options);
    expect(error.message).toContain(option);
  });

  it('never prints credentials or TLS keys', () => {
    const withPassword = invalid({ nodes: [{ id: 'a', origin: 'https://user:hunter2@x:1' }] });
    expect(withPassword.message).not.toContain('hunter2');
    const withKey = invalid({ nodes: [node], connect: ['-----BEGIN PRIVATE KEY----- secret'] });
    expect(withKey.message).not.toContain('secret');
  });

  it('validates nodes added at run time', () => {
    const pool = createHttp2Pool({ nodes: [node] });
    try {
      expect(() => pool.addNode({ id: 'b', origin: 'https://x:1/path' })).toThrow(/nodes?\.origin|node\.origin/);
    } finally {
      void pool.close();
    }
  });

  it('accepts sessionsPerNode equal to maxPerNode', () => {
    const pool = createHttp2Pool({ nodes: [node], sessionsPerNode: 3, maxPerNode: 3 });
    expect(pool.stats().total).toBe(0);
    void pool.close();
  });
});

describe('pool name', () => {
  it('defaults to the first origin, and name overrides it', async () => {
    const nodes = [{ id: 'a', origin: 'http://127.0.0.1:1' }, { id: 'b', origin: 'http://127.0.0.1:2' }];
    const pool = createHttp2Pool({ nodes });
    const named = createHttp2Pool({ nodes, name: 'api' });
    expect(pool.stats().name).toBe('http://127.0.0.1:1');
    expect(named.stats().name).toBe('api');
    await Promise.all([pool.close(), named.close()]);
  });
});
