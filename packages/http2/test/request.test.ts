import { Readable } from 'node:stream';
import type { Http2PoolOptions } from '@pool/http2';
import type { Http2TestServerOptions } from '@pool/testkit/http2';
import { fetch, request as undiciRequest } from 'undici';
import { describe, expect, it } from 'vitest';
import { makePool, startSecureServer, startServer } from './helpers.js';

describe.each([
  ['TLS (h2 via ALPN)', true],
  ['h2c (prior knowledge)', false],
])('request over %s', (_name, isSecure) => {
  async function setup(serverOptions: Http2TestServerOptions = {}, poolOptions: Partial<Http2PoolOptions> = {}) {
    if (isSecure) {
      const { server, ca } = await startSecureServer(serverOptions);
      return { server, pool: makePool({ nodes: [{ id: 'a', origin: server.origin }], connect: { ca }, ...poolOptions }) };
    }
    const server = await startServer(serverOptions);
    return { server, pool: makePool({ nodes: [{ id: 'a', origin: server.origin }], ...poolOptions }) };
  }

  it('returns undici\'s response shape and releases the stream slot', async () => {
    const { pool: http2Pool } = await setup();
    const response = await http2Pool.request({ method: 'GET', path: '/session' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    const info = (await response.body.json()) as { scheme: string; session: number };
    expect(info.scheme).toBe(isSecure ? 'https' : 'http');
    expect(http2Pool.stats()).toMatchObject({ leases: 0, total: 1, created: 1 });
  });

  it('sends bodies: string, Buffer and a stream', async () => {
    const { pool: http2Pool } = await setup();
    for (const body of ['text body', Buffer.from('buffer body'), Readable.from([Buffer.from('stream '), Buffer.from('body')])]) {
      const response = await http2Pool.request({ method: 'POST', path: '/echo', body, headers: { 'content-type': 'text/plain' } });
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-method']).toBe('POST');
      expect(await response.body.text()).toBe(typeof body === 'string' ? body : body instanceof Buffer ? body.toString() : 'stream body');
    }
    expect(http2Pool.stats().leases).toBe(0);
  });

  it('works as an undici Dispatcher for fetch and undici.request', async () => {
    const { server: started, pool: http2Pool } = await setup();
    const fetched = await fetch(`${started.origin}/hello`, { dispatcher: http2Pool.dispatcher });
    expect(fetched.status).toBe(200);
    expect(await fetched.text()).toBe('hello');
    const posted = await fetch(`${started.origin}/echo`, { dispatcher: http2Pool.dispatcher, method: 'POST', body: 'via fetch' });
    expect(await posted.text()).toBe('via fetch');
    const viaRequest = await undiciRequest(`${started.origin}/hello`, { dispatcher: http2Pool.dispatcher });
    expect(viaRequest.statusCode).toBe(200);
    expect(await viaRequest.body.text()).toBe('hello');
    expect(http2Pool.stats()).toMatchObject({ leases: 0, created: 1 });
  });

  it('spreads 100 concurrent requests over sessions of 10 streams (server SETTINGS), never more than sessionsPerNode', async () => {
    const { server: started, pool: http2Pool } = await setup({ maxConcurrentStreams: 10 }, { sessionsPerNode: 10 });
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => http2Pool.request({ method: 'GET', path: '/delay?ms=100' }).then((r) => r.body.text())),
    );
    expect(responses.every((text) => text === 'delayed')).toBe(true);
    expect(started.peakStreamsPerSession).toBeLessThanOrEqual(10);
    expect(started.acceptedSessions).toBe(10);
    expect(http2Pool.stats()).toMatchObject({ total: 10, leases: 0 });
  });

  it('caps sessions at sessionsPerNode and queues the rest', async () => {
    const { server: started, pool: http2Pool } = await setup({ maxConcurrentStreams: 10 }, { sessionsPerNode: 3 });
    const waiting: number[] = [];
    const load = Promise.all(Array.from({ length: 100 }, () => http2Pool.request({ method: 'GET', path: '/delay?ms=20' }).then((r) => r.body.text())));
    await new Promise((resolve) => setTimeout(resolve, 10));
    waiting.push(http2Pool.stats().waiting);
    await load;
    expect(started.acceptedSessions).toBe(3);
    expect(started.peakSessions).toBeLessThanOrEqual(3);
    expect(started.peakStreamsPerSession).toBeLessThanOrEqual(10);
    expect(waiting[0]).toBeGreaterThan(0);
  });

  it('opens a second session only when the first is full', async () => {
    const { server: started, pool: http2Pool } = await setup({ maxConcurrentStreams: 100 }, { maxLeasesPerConnection: 5 });
    await (await http2Pool.request({ method: 'GET', path: '/hello' })).body.text();
    await Promise.all(Array.from({ length: 5 }, () => http2Pool.request({ method: 'GET', path: '/delay?ms=30' }).then((r) => r.body.text())));
    expect(started.acceptedSessions).toBe(1);
    await Promise.all(Array.from({ length: 6 }, () => http2Pool.request({ method: 'GET', path: '/delay?ms=30' }).then((r) => r.body.text())));
    expect(started.acceptedSessions).toBe(2);
  });

  it('sends concurrent POSTs on one session at once (undici alone would serialise them)', async () => {
    const { server, pool: http2Pool } = await setup({}, { sessionsPerNode: 1 });
    const texts = await Promise.all(Array.from({ length: 5 }, () => http2Pool.request({ method: 'POST', path: '/delay?ms=150', body: 'x' }).then((r) => r.body.text())));
    expect(texts).toEqual(Array.from({ length: 5 }, () => 'delayed'));
    expect(server.acceptedSessions).toBe(1);
    expect(server.peakStreamsPerSession).toBe(5);
  });
});
