import http2 from 'node:http2';
import { isPoolError } from '@pool/http2';
import { describe, expect, it } from 'vitest';
import { eventually, makePool, settleAll, sleep, startSecureServer, startServer } from './helpers.js';

async function getText(pool: ReturnType<typeof makePool>, path: string): Promise<string> {
  const response = await pool.request({ method: 'GET', path });
  return response.body.text();
}

describe('GOAWAY and lost sessions', () => {
  it('a graceful GOAWAY mid-load lets the streams in flight finish and moves new ones to new sessions', async () => {
    const { server, ca } = await startSecureServer({ maxConcurrentStreams: 20 });
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], connect: { ca }, sessionsPerNode: 4 });
    const destroyed: string[] = [];
    pool.on('destroy', (event) => destroyed.push(String((event as { reason?: unknown }).reason)));
    const load = settleAll(Array.from({ length: 200 }, () => getText(pool, '/delay?ms=40')));
    await eventually(() => server.openSessions === 4 && server.openStreams > 40);
    const sessionsBefore = server.acceptedSessions;
    server.goaway();
    const results = await load;
    // RFC 9113 6.8: after a NO_ERROR GOAWAY the server finishes what it started. undici 7 alone
    // destroys the socket at once and fails those; the pool lets them end (see session.ts).
    expect(results.filter((result) => result !== 'delayed')).toEqual([]);
    // And none was sent twice: the ones in flight were not cut off and retried.
    expect(server.streamsReceived).toBe(200);
    // Whatever comes next goes to new sessions (the load may have been all in flight at the GOAWAY).
    expect(await settleAll(Array.from({ length: 20 }, () => getText(pool, '/hello')))).toEqual(Array(20).fill('hello'));
    expect(server.acceptedSessions).toBeGreaterThan(sessionsBefore);
    expect(await eventually(() => destroyed.filter((reason) => reason === 'broken').length >= sessionsBefore)).toBe(true);
    expect(pool.stats()).toMatchObject({ leases: 0, waiting: 0 });
    expect(pool.stats().total).toBeLessThanOrEqual(4);
  });

  it('retries a GET cut off by an abrupt GOAWAY (nothing processed) on a fresh session', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const pending = getText(pool, '/delay?ms=200');
    await eventually(() => server.openStreams === 1);
    server.goaway({ graceful: false, code: 0, lastStreamId: 0 });
    expect(await pending).toBe('delayed');
    expect(server.acceptedSessions).toBe(2);
    expect(pool.stats()).toMatchObject({ leases: 0, created: 2 });
  });

  it('finishes a POST in flight at a graceful GOAWAY, sent once', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const pending = pool.request({ method: 'POST', path: '/delay?ms=200', body: 'x' });
    await eventually(() => server.openStreams === 1);
    const streamsBefore = server.streamsReceived;
    server.goaway();
    const response = await pending;
    expect(await response.body.text()).toBe('delayed');
    expect(server.streamsReceived).toBe(streamsBefore);
    expect(pool.stats().leases).toBe(0);
  });

  it('fails a POST whose connection is lost mid-flight (not idempotent) and does not send it twice', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const pending = pool.request({ method: 'POST', path: '/delay?ms=200', body: 'x' });
    await eventually(() => server.openStreams === 1);
    const streamsBefore = server.streamsReceived;
    server.dropSessions();
    await expect(pending).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    await sleep(50);
    expect(server.streamsReceived).toBe(streamsBefore);
    expect(pool.stats().leases).toBe(0);
    // The pool opens a fresh session for the next request.
    const next = await pool.request({ method: 'POST', path: '/echo', body: 'again' });
    expect(await next.body.text()).toBe('again');
  });

  it('retries a POST marked idempotent: true', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const pending = pool.request({ method: 'POST', path: '/delay?ms=200', body: 'x', idempotent: true });
    await eventually(() => server.openStreams === 1);
    server.dropSessions();
    const response = await pending;
    expect(await response.body.text()).toBe('delayed');
    expect(server.acceptedSessions).toBe(2);
  });

  it('does not retry when retryOnSessionLoss is false', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], retryOnSessionLoss: false });
    const pending = getText(pool, '/delay?ms=200');
    await eventually(() => server.openStreams === 1);
    server.dropSessions();
    await expect(pending).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(server.acceptedSessions).toBe(1);
  });

  it('retries on another node when one is healthy: the server that lost one session is losing the rest', async () => {
    for (let round = 0; round < 4; round++) {
      const servers = [await startServer(), await startServer()];
      const pool = makePool({ nodes: servers.map((server, i) => ({ id: `n${i}`, origin: server.origin })) });
      const pending = getText(pool, '/delay?ms=200');
      await eventually(() => servers.some((server) => server.openStreams === 1));
      const lost = servers.findIndex((server) => server.openStreams === 1);
      servers[lost]!.dropSessions();
      expect(await pending).toBe('delayed');
      expect(servers[1 - lost]!.streamsReceived).toBe(1);
      await pool.close();
    }
  });

  it('closes idle sessions that receive GOAWAY and serves the next request on a new one', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    expect(await getText(pool, '/hello')).toBe('hello');
    server.goaway();
    expect(await eventually(() => pool.stats().total === 0)).toBe(true);
    expect(await getText(pool, '/hello')).toBe('hello');
    expect(pool.stats()).toMatchObject({ created: 2, destroyed: 1, total: 1 });
  });

  it('survives the server being killed and restarted on the same port', async () => {
    const server = await startServer();
    const pool = makePool({
      nodes: [{ id: 'a', origin: server.origin }],
      createRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
      circuitBreaker: false,
    });
    expect(await getText(pool, '/hello')).toBe('hello');
    const inFlight = pool.request({ method: 'POST', path: '/delay?ms=500', body: 'x' });
    await eventually(() => server.openStreams === 1);
    await server.stop();
    await expect(inFlight).rejects.toThrow();
    const whileDown = await pool.request({ method: 'GET', path: '/hello' }).catch((error: unknown) => error);
    expect(isPoolError(whileDown, 'CREATE_FAILED')).toBe(true);
    expect(pool.stats()).toMatchObject({ leases: 0, waiting: 0 });
    await server.restart();
    expect(await getText(pool, '/hello')).toBe('hello');
    expect(pool.stats().total).toBe(1);
  });

  it.each([
    ['h2c', false],
    ['TLS', true],
  ])('rides through a restart under load (%s): in-flight GETs are retried once the server is back', async (_name, isSecure) => {
    const { server, ca } = isSecure ? await startSecureServer({ maxConcurrentStreams: 10 }) : { server: await startServer({ maxConcurrentStreams: 10 }), ca: undefined };
    const pool = makePool({
      nodes: [{ id: 'a', origin: server.origin }],
      ...(ca === undefined ? {} : { connect: { ca } }),
      sessionsPerNode: 3,
      createRetry: { attempts: 20, baseDelayMs: 20, maxDelayMs: 50 },
      circuitBreaker: false,
    });
    const load = settleAll(Array.from({ length: 30 }, () => getText(pool, '/delay?ms=100')));
    await eventually(() => server.openStreams === 30);
    await server.restart({ downtimeMs: 100 });
    expect(new Set(await load)).toEqual(new Set(['delayed']));
    expect(pool.stats()).toMatchObject({ leases: 0, waiting: 0 });
  });

  it('resends a request the server refused (REFUSED_STREAM), whatever its method, at most twice', async () => {
    const server = await startServer({
      handler: (stream) => {
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return true;
      },
    });
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    await expect(pool.request({ method: 'POST', path: '/refused', body: 'x' })).rejects.toMatchObject({ code: 'ERR_HTTP2_STREAM_ERROR' });
    expect(server.streamsReceived).toBe(3);
    expect(pool.stats().leases).toBe(0);
  });

  it('does not resend a GET whose stream the server reset with another code', async () => {
    const server = await startServer({
      handler: (stream) => {
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        return true;
      },
    });
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    await expect(pool.request({ method: 'GET', path: '/reset' })).rejects.toMatchObject({ code: 'ERR_HTTP2_STREAM_ERROR' });
    expect(server.streamsReceived).toBe(1);
    expect(server.acceptedSessions).toBe(1);
  });
});
