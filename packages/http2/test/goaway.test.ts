import http2 from 'node:http2';
import { isPoolError } from '@pool/http2';
import { describe, expect, it } from 'vitest';
import { eventually, makePool, settleAll, sleep, startSecureServer, startServer } from './helpers.js';

async function getText(pool: ReturnType<typeof makePool>, path: string): Promise<string> {
  const response = await pool.request({ method: 'GET', path });
  return response.body.text();
}

describe('GOAWAY and lost sessions', () => {
  it('retires sessions on a graceful GOAWAY mid-load and retries the GETs it cut off', async () => {
    const { server, ca } = await startSecureServer({ maxConcurrentStreams: 20 });
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], connect: { ca }, sessionsPerNode: 4 });
    const destroyed: string[] = [];
    pool.on('destroy', (event) => destroyed.push(String((event as { reason?: unknown }).reason)));
    const load = settleAll(Array.from({ length: 200 }, () => getText(pool, '/delay?ms=40')));
    await eventually(() => server.openSessions === 4 && server.openStreams > 40);
    const sessionsBefore = server.acceptedSessions;
    const startedByServer = server.openStreams;
    server.goaway();
    const results = await load;
    // undici 7 closes the socket on GOAWAY, so a response the server had already started can
    // fail (HTTP/2 lets the server finish it; undici does not wait). Every GET the server had not
    // started is retried on a fresh session: only the ones under way at the GOAWAY may fail.
    const failures = results.filter((result) => result !== 'delayed');
    expect(new Set(failures)).toEqual(new Set(failures.length === 0 ? [] : ['error:UND_ERR_SOCKET']));
    expect(failures.length).toBeLessThanOrEqual(startedByServer);
    expect(server.acceptedSessions).toBeGreaterThan(sessionsBefore);
    expect(destroyed.filter((reason) => reason === 'broken').length).toBeGreaterThanOrEqual(sessionsBefore);
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

  it('fails a POST cut off by GOAWAY (not idempotent) and does not send it twice', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const pending = pool.request({ method: 'POST', path: '/delay?ms=200', body: 'x' });
    await eventually(() => server.openStreams === 1);
    const streamsBefore = server.streamsReceived;
    server.goaway();
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
    server.goaway();
    const response = await pending;
    expect(await response.body.text()).toBe('delayed');
  });

  it('does not retry when retryOnSessionLoss is false', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], retryOnSessionLoss: false });
    const pending = getText(pool, '/delay?ms=200');
    await eventually(() => server.openStreams === 1);
    server.goaway();
    await expect(pending).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(server.acceptedSessions).toBe(1);
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
