import tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { isPoolError } from '@pool/core';
import { createTcpPool } from '@pool/tcp';
import { echoRoundTrip, startTcpEchoServer } from '@pool/testkit/tcp';
import { makeTestCertificates, type TestCertificates } from '@pool/testkit/tls';
import { cleanUpAfterEach, rejectionOf, waitFor } from './helpers.js';

let certificates: TestCertificates;

beforeAll(() => {
  certificates = makeTestCertificates();
});

const afterTest = cleanUpAfterEach();

async function startTlsEcho(options: { closeIdleAfterMs?: number } = {}) {
  return afterTest.stop(await startTcpEchoServer({ tls: { cert: certificates.cert, key: certificates.key }, ...options }));
}

describe('TLS nodes', () => {
  it('connect and verify the server against a CA made by the test', async () => {
    const server = await startTlsEcho();
    const pool = afterTest.close(createTcpPool({ nodes: [{ id: 'secure', host: '127.0.0.1', port: server.port, tls: { ca: certificates.ca } }] }));
    const reply = await pool.use(async (socket) => {
      expect(socket).toBeInstanceOf(tls.TLSSocket);
      expect((socket as tls.TLSSocket).authorized).toBe(true);
      return echoRoundTrip(socket, 'over tls');
    });
    expect(reply).toBe('over tls');
    expect(await pool.use((socket) => echoRoundTrip(socket, 'again'))).toBe('again');
    expect(pool.stats().created).toBe(1);
  });

  it('verify by default: an untrusted certificate fails CREATE_FAILED with the TLS error as cause', async () => {
    const server = await startTlsEcho();
    const pool = afterTest.close(createTcpPool({
      nodes: [{ id: 'secure', host: 'localhost', port: server.port, tls: true }],
      createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    }));
    const error = await rejectionOf(pool.acquire());
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    const cause = (error as Error).cause as NodeJS.ErrnoException;
    expect(cause.code).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
    await waitFor('the server to see the socket closed', () => server.openConnections === 0);
    expect(pool.stats().total).toBe(0);
  });

  it('check the host name: a certificate for another name fails with ERR_TLS_CERT_ALTNAME_INVALID', async () => {
    const server = await startTlsEcho();
    const pool = afterTest.close(createTcpPool({
      nodes: [{ id: 'secure', host: '127.0.0.1', port: server.port, tls: { ca: certificates.ca, servername: 'db.example.com' } }],
      createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    }));
    const error = await rejectionOf(pool.acquire());
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('never put TLS key material in an error, a stat or an event', async () => {
    const server = await startTlsEcho();
    // A client certificate and key, against a server the client does not trust: the create fails.
    const pool = afterTest.close(createTcpPool({
      nodes: [{ id: 'secure', host: '127.0.0.1', port: server.port, tls: { cert: certificates.cert, key: certificates.key } }],
      createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    }));
    const events: unknown[] = [];
    pool.on('createError', (event) => events.push(event));
    const error = await rejectionOf(pool.acquire());
    const health = await pool.health();
    const everything = [
      String(error),
      (error as Error).stack ?? '',
      String((error as Error).cause),
      JSON.stringify(pool.stats()),
      JSON.stringify(health),
      ...events.map((event) => String((event as { error: unknown }).error)),
    ].join('\n');
    expect(everything).not.toContain('PRIVATE KEY');
    expect(everything).not.toContain(certificates.key.split('\n')[1]);
  });

  it('evict a TLS socket the peer closed while idle', async () => {
    const server = await startTlsEcho({ closeIdleAfterMs: 100 });
    const pool = afterTest.close(createTcpPool({
      nodes: [{ id: 'secure', host: '127.0.0.1', port: server.port, tls: { ca: certificates.ca } }],
      validateOnAcquire: false,
    }));
    expect(await pool.use((socket) => echoRoundTrip(socket, 'one'))).toBe('one');
    await waitFor('the closed idle socket to be destroyed', () => pool.stats().total === 0, 2_000);
    expect(await pool.use((socket) => echoRoundTrip(socket, 'two'))).toBe('two');
  });
});
