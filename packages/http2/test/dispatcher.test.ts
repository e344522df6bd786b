import type { IncomingHttpHeaders } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { interceptors, request, type Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { eventually, makePool, startServer } from './helpers.js';

interface Collected {
  statusCode?: number;
  headers?: IncomingHttpHeaders;
  body: string;
  error?: Error;
  starts: number;
  controller?: Dispatcher.DispatchController;
}

/** Dispatches with a handler written against undici's controller API; resolves when it ends. */
function dispatchWithController(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, onStart?: (controller: Dispatcher.DispatchController) => void) {
  const collected: Collected = { body: '', starts: 0 };
  const done = new Promise<Collected>((resolve) => {
    dispatcher.dispatch(options, {
      onRequestStart(controller) {
        collected.starts += 1;
        collected.controller = controller;
        onStart?.(controller);
      },
      onResponseStart(_controller, statusCode, headers) {
        collected.statusCode = statusCode;
        collected.headers = headers;
      },
      onResponseData(_controller, chunk) {
        collected.body += chunk.toString();
      },
      onResponseEnd() {
        resolve(collected);
      },
      onResponseError(_controller, error) {
        collected.error = error;
        resolve(collected);
      },
    });
  });
  return done;
}

describe('the dispatcher with undici\'s controller API', () => {
  it('delivers a response to a controller-style handler', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const result = await dispatchWithController(pool.dispatcher, { method: 'POST', path: '/echo', body: 'controller' });
    expect(result).toMatchObject({ statusCode: 200, body: 'controller', starts: 1 });
    expect(result.headers?.['x-method']).toBe('POST');
    expect(pool.stats().leases).toBe(0);
  });

  it('aborts through the controller while in flight', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    let controller: Dispatcher.DispatchController | undefined;
    const pending = dispatchWithController(pool.dispatcher, { method: 'GET', path: '/hang' }, (started) => {
      controller = started;
    });
    await eventually(() => server.openStreams === 1);
    controller?.abort(new Error('stop'));
    const result = await pending;
    expect(result.error?.message).toBe('stop');
    expect(controller?.aborted).toBe(true);
    expect(pool.stats().leases).toBe(0);
    expect(await eventually(() => server.openStreams === 0)).toBe(true);
  });

  it('keeps one controller across a retry after GOAWAY', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const pending = dispatchWithController(pool.dispatcher, { method: 'GET', path: '/delay?ms=200' });
    await eventually(() => server.openStreams === 1);
    server.goaway({ graceful: false, code: 0, lastStreamId: 0 }); // nothing processed: retried
    const result = await pending;
    expect(result).toMatchObject({ statusCode: 200, body: 'delayed', starts: 1 });
    expect(server.acceptedSessions).toBe(2);
  });

  it('works with undici interceptors through compose', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const composed = pool.dispatcher.compose(interceptors.responseError());
    await expect(request(`${server.origin}/status?code=503`, { dispatcher: composed })).rejects.toMatchObject({ statusCode: 503 });
    const ok = await request(`${server.origin}/hello`, { dispatcher: composed });
    expect(await ok.body.text()).toBe('hello');
    expect(pool.stats().leases).toBe(0);
  });

  it('serves undici stream() and pipeline()', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const chunks: Buffer[] = [];
    await pool.dispatcher.stream({ method: 'GET', path: '/bytes?n=100000' }, () => new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }));
    expect(Buffer.concat(chunks).length).toBe(100_000);
    const echoed: Buffer[] = [];
    await pipeline(
      Readable.from([Buffer.from('piped '), Buffer.from('body')]),
      pool.dispatcher.pipeline({ method: 'POST', path: '/echo' }, ({ body }) => body),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          echoed.push(chunk);
          callback();
        },
      }),
    );
    expect(Buffer.concat(echoed).toString()).toBe('piped body');
    expect(pool.stats().leases).toBe(0);
  });

  it('closes the pool through the Dispatcher API', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const response = await pool.request({ method: 'GET', path: '/hello' });
    await response.body.text();
    await pool.dispatcher.close();
    const stats = pool.stats();
    expect(stats.created).toBe(stats.destroyed);
    await expect(pool.request({ method: 'GET', path: '/hello' })).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });
});
