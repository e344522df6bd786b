import { isPoolError } from '@pool/http2';
import { describe, expect, it } from 'vitest';
import { eventually, makePool, sleep, startSecureServer, startServer } from './helpers.js';

describe('timeouts', () => {
  it('fails a request whose headers do not come within headersTimeoutMs, frees its slot, keeps the session', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], headersTimeoutMs: 150 });
    const started = Date.now();
    await expect(pool.request({ method: 'GET', path: '/hang' })).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(pool.stats()).toMatchObject({ leases: 0, total: 1 });
    expect(await eventually(() => server.openStreams === 0)).toBe(true);
    const next = await pool.request({ method: 'GET', path: '/hello' });
    expect(await next.body.text()).toBe('hello');
    expect(server.acceptedSessions).toBe(1);
  });

  it('takes a per-request headersTimeout over the pool default', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    await expect(pool.request({ method: 'GET', path: '/hang', headersTimeout: 100 })).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(pool.stats().leases).toBe(0);
  });

  it('fails ACQUIRE_TIMEOUT when every stream slot stays busy', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], sessionsPerNode: 1, maxLeasesPerConnection: 1 });
    const hangingAbort = new AbortController();
    const hanging = pool.request({ method: 'GET', path: '/hang', signal: hangingAbort.signal }).catch((error: unknown) => error);
    await eventually(() => server.openStreams === 1);
    const waited = await pool.request({ method: 'GET', path: '/hello', acquireTimeoutMs: 100 }).catch((error: unknown) => error);
    expect(isPoolError(waited, 'ACQUIRE_TIMEOUT')).toBe(true);
    expect(pool.stats()).toMatchObject({ waiting: 0, leases: 1 });
    hangingAbort.abort();
    await hanging;
  });
});

describe('aborts', () => {
  it('aborts a request in flight: rejects, resets the stream, frees the slot', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const controller = new AbortController();
    const pending = pool.request({ method: 'GET', path: '/hang', signal: controller.signal });
    await eventually(() => server.openStreams === 1);
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
    expect(pool.stats().leases).toBe(0);
    expect(await eventually(() => server.openStreams === 0)).toBe(true);
    const next = await pool.request({ method: 'GET', path: '/hello' });
    expect(await next.body.text()).toBe('hello');
  });

  it('aborts a request still waiting for a slot, without sending it', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], sessionsPerNode: 1, maxLeasesPerConnection: 1 });
    const hangingAbort = new AbortController();
    const hanging = pool.request({ method: 'GET', path: '/hang', signal: hangingAbort.signal }).catch((error: unknown) => error);
    await eventually(() => server.openStreams === 1);
    const controller = new AbortController();
    const waiting = pool.request({ method: 'GET', path: '/hello', signal: controller.signal });
    await eventually(() => pool.stats().waiting === 1);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(pool.stats().waiting).toBe(0);
    expect(server.streamsReceived).toBe(1);
    hangingAbort.abort();
    await hanging;
  });

  it('rejects at once with a signal already aborted, sending nothing', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    await expect(pool.request({ method: 'GET', path: '/hello', signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(server.streamsReceived).toBe(0);
    expect(pool.stats()).toMatchObject({ leases: 0, waiting: 0 });
  });

  it('aborts a fetch through the dispatcher', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const controller = new AbortController();
    const { fetch } = await import('undici');
    const pending = fetch(`${server.origin}/hang`, { dispatcher: pool.dispatcher, signal: controller.signal });
    await eventually(() => server.openStreams === 1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(await eventually(() => pool.stats().leases === 0)).toBe(true);
  });
});

describe('response bodies and the stream slot', () => {
  it('frees the slot when a small body has arrived, even if the caller never reads it', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], sessionsPerNode: 1, maxLeasesPerConnection: 1 });
    const unread = await pool.request({ method: 'GET', path: '/bytes?n=1000' });
    expect(unread.statusCode).toBe(200);
    expect(await eventually(() => pool.stats().leases === 0)).toBe(true);
    // The only slot is free again: a second request goes through while the first body sits unread.
    const second = await pool.request({ method: 'GET', path: '/hello', acquireTimeoutMs: 1_000 });
    expect(await second.body.text()).toBe('hello');
    // The unread body is still there for the caller.
    expect((await unread.body.arrayBuffer()).byteLength).toBe(1000);
  });

  it('frees the slot of a large unread body after bodyTimeoutMs, with no uncaught error', async () => {
    const { server, ca } = await startSecureServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], connect: { ca }, bodyTimeoutMs: 200 });
    const unread = await pool.request({ method: 'GET', path: '/bytes?n=5000000' });
    expect(unread.statusCode).toBe(200);
    await sleep(50);
    expect(pool.stats().leases).toBe(1);
    expect(await eventually(() => pool.stats().leases === 0, 3_000)).toBe(true);
    await expect(unread.body.text()).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
    const next = await pool.request({ method: 'GET', path: '/hello' });
    expect(await next.body.text()).toBe('hello');
  });

  it('frees the slot when the caller dumps or destroys a large body', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const dumped = await pool.request({ method: 'GET', path: '/bytes?n=5000000' });
    await dumped.body.dump({ limit: 1000 });
    expect(await eventually(() => pool.stats().leases === 0)).toBe(true);
    const destroyed = await pool.request({ method: 'GET', path: '/bytes?n=5000000' });
    destroyed.body.destroy();
    expect(await eventually(() => pool.stats().leases === 0)).toBe(true);
    expect(await eventually(() => server.openStreams === 0)).toBe(true);
    expect(pool.stats().total).toBe(1);
  });

  it('releases exactly once per request under mixed outcomes', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], headersTimeoutMs: 200 });
    const outcomes = await Promise.allSettled([
      pool.request({ method: 'GET', path: '/hello' }).then((r) => r.body.text()),
      pool.request({ method: 'GET', path: '/status?code=503' }).then((r) => r.body.text()),
      pool.request({ method: 'GET', path: '/hang' }),
      pool.request({ method: 'GET', path: '/bytes?n=300000' }).then((r) => r.body.dump()),
      pool.request({ method: 'GET', path: '/hello', signal: AbortSignal.timeout(1) }).then((r) => r.body.text()),
    ]);
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: 'hello' });
    expect(outcomes[2]).toMatchObject({ status: 'rejected' });
    const stats = pool.stats();
    expect(stats.leases).toBe(0);
    expect(stats.acquired).toBe(stats.released);
  });
});

describe('drain and pool.use', () => {
  it('drains: waits for streams, destroys every session, created === destroyed', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const slow = pool.request({ method: 'GET', path: '/delay?ms=100' }).then((r) => r.body.text());
    await eventually(() => server.openStreams === 1);
    await pool.drain();
    expect(await slow).toBe('delayed');
    const stats = pool.stats();
    expect(stats.created).toBe(stats.destroyed);
    expect(await eventually(() => server.openSessions === 0)).toBe(true);
    const afterDrain = await pool.request({ method: 'GET', path: '/hello' }).catch((error: unknown) => error);
    expect(isPoolError(afterDrain, 'POOL_CLOSED')).toBe(true);
  });

  it('hands the undici Client to pool.use', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const text = await pool.use(async (client) => (await client.request({ method: 'GET', path: '/hello' })).body.text());
    expect(text).toBe('hello');
    expect(pool.stats()).toMatchObject({ leases: 0, total: 1 });
  });

  it('validates with an HTTP/2 PING when ping is true', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], ping: true, validateOnAcquire: true });
    for (let i = 0; i < 3; i++) {
      const response = await pool.request({ method: 'GET', path: '/hello' });
      expect(await response.body.text()).toBe('hello');
    }
    const health = await pool.health();
    expect(health.healthy).toBe(true);
    expect(pool.stats()).toMatchObject({ created: 1, validationFailures: 0 });
  });
});
