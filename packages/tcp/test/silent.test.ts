import { describe, expect, it } from 'vitest';
import { isPoolError } from '@pool/core';
import { ConnectTimeoutError, createTcpPool, type TcpPoolOptions } from '@pool/tcp';
import { echoRoundTrip, startSilentTcpServer } from '@pool/testkit/tcp';
import { makeTestCertificates } from '@pool/testkit/tls';
import { cleanUpAfterEach, rejectionOf, waitFor } from './helpers.js';

const afterTest = cleanUpAfterEach();

/** A pool of TLS sockets, no create retry, on a silent server: the TLS handshake never completes. */
async function setUpTlsHandshakeThatHangs(options: Partial<TcpPoolOptions>) {
  const certificates = makeTestCertificates();
  const server = afterTest.stop(await startSilentTcpServer());
  const pool = afterTest.close(createTcpPool({
    nodes: [{ id: 'silent', host: server.host, port: server.port, tls: { ca: certificates.ca } }],
    createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    ...options,
  }));
  return { server, pool };
}

describe('a server that accepts but never answers', () => {
  it('connect timeout: a handshake that never completes fails CREATE_FAILED after connectTimeoutMs', async () => {
    const { server, pool } = await setUpTlsHandshakeThatHangs({ connectTimeoutMs: 200 });
    const started = Date.now();
    const error = await rejectionOf(pool.acquire());
    const elapsed = Date.now() - started;
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(ConnectTimeoutError);
    expect((cause as ConnectTimeoutError).code).toBe('ETIMEDOUT');
    expect((cause as Error).message).toContain('200 ms');
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2_000);
    // The half-open socket was destroyed, not leaked.
    await waitFor('the server to see the socket closed', () => server.openConnections === 0);
    expect(pool.stats().total).toBe(0);
  });

  it('createTimeoutMs aborts a connect that is still pending and destroys the socket', async () => {
    const { server, pool } = await setUpTlsHandshakeThatHangs({ connectTimeoutMs: 10_000, createTimeoutMs: 150 });
    const started = Date.now();
    const error = await rejectionOf(pool.acquire());
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
    await waitFor('the server to see the socket closed', () => server.openConnections === 0);
    expect(pool.stats().total).toBe(0);
  });

  it('hang: a plain TCP connect succeeds; the exchange is bounded by the caller signal and the socket is destroyed', async () => {
    const server = afterTest.stop(await startSilentTcpServer());
    const pool = afterTest.close(createTcpPool({ nodes: [{ id: 'silent', host: server.host, port: server.port }], connectTimeoutMs: 200 }));
    const started = Date.now();
    const error = await rejectionOf(pool.use((socket) => echoRoundTrip(socket, 'hello?', AbortSignal.timeout(150))));
    expect((error as Error).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(2_000);
    // The reply may still come: that socket is never reused.
    await waitFor('the socket to be destroyed', () => pool.stats().total === 0);
    expect(pool.stats()).toMatchObject({ created: 1, destroyed: 1, createFailures: 0 });
    await waitFor('the server to see the socket closed', () => server.openConnections === 0);
    expect(server.bytesReceived).toBe('hello?\n'.length);
  });
});
