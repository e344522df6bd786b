import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { isPoolError } from '@pool/http2';
import { findClosedPort } from '@pool/testkit/tcp';
import { makeTestCertificates } from '@pool/testkit/tls';
import { describe, expect, it } from 'vitest';
import { makePool, onCleanup, startSecureServer, startServer } from './helpers.js';

const noRetry = { createRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 }, circuitBreaker: false } as const;

describe('connecting', () => {
  it('fails CREATE_FAILED when the certificate is not trusted, without leaking the key', async () => {
    const { server } = await startSecureServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], ...noRetry });
    const error = await pool.request({ method: 'GET', path: '/hello' }).catch((caught: unknown) => caught);
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    expect(String((error as Error).message)).not.toContain('PRIVATE KEY');
    expect(pool.stats()).toMatchObject({ total: 0, leases: 0, waiting: 0 });
  });

  it('fails CREATE_FAILED when nothing listens', async () => {
    const port = await findClosedPort();
    const pool = makePool({ nodes: [{ id: 'a', origin: `http://127.0.0.1:${port}` }], ...noRetry });
    const error = await pool.request({ method: 'GET', path: '/hello' }).catch((caught: unknown) => caught);
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    expect((error as Error & { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
  });

  it('fails CREATE_FAILED when the server only speaks HTTP/1.1', async () => {
    const { cert, key } = makeTestCertificates();
    const server = https.createServer({ cert, key }, (_req, res) => res.end('h1'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onCleanup(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
    const { ca } = makeTestCertificates();
    const pool = makePool({ nodes: [{ id: 'a', origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}` }], connect: { ca }, ...noRetry });
    const error = await pool.request({ method: 'GET', path: '/' }).catch((caught: unknown) => caught);
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    expect(String((error as { cause?: Error }).cause?.message)).toContain('did not negotiate HTTP/2');
  });

  it('learns the stream budget from the server SETTINGS', async () => {
    const server = await startServer({ maxConcurrentStreams: 3 });
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], sessionsPerNode: 1 });
    const texts = await Promise.all(Array.from({ length: 12 }, () => pool.request({ method: 'GET', path: '/delay?ms=20' }).then((r) => r.body.text())));
    expect(texts).toHaveLength(12);
    expect(server.peakStreamsPerSession).toBe(3);
  });

  it('fails over to another node when one is down, and routes by origin or node id', async () => {
    const up = await startServer();
    const port = await findClosedPort();
    const pool = makePool({
      nodes: [
        { id: 'down', origin: `http://127.0.0.1:${port}` },
        { id: 'up', origin: up.origin },
      ],
      ...noRetry,
    });
    for (let i = 0; i < 4; i++) {
      const response = await pool.request({ method: 'GET', path: '/hello' });
      expect(await response.body.text()).toBe('hello');
    }
    const named = await pool.request({ method: 'GET', path: '/hello', node: 'down' }).catch((caught: unknown) => caught);
    expect(isPoolError(named, 'CREATE_FAILED') || isPoolError(named, 'NODE_UNAVAILABLE')).toBe(true);
    const byOrigin = await pool.request({ method: 'GET', path: '/hello', origin: up.origin });
    expect(byOrigin.statusCode).toBe(200);
    await byOrigin.body.dump();
  });
});
