import { createPool, type Pool } from '@pool/core';
import type { Client, Dispatcher } from 'undici';
import { Http2PoolDispatcher } from './dispatcher.js';
import { createSessionFactory } from './factory.js';
import { checkNode, resolveHttp2Options, type Http2Node, type Http2PoolOptions } from './options.js';
import type { Http2RequestRouting } from './pooled-request.js';

/** undici's `request` options plus where the request goes (see {@link Http2RequestRouting}). */
export type Http2RequestOptions<TOpaque = null> = Dispatcher.RequestOptions<TOpaque> & Http2RequestRouting;

/** A pool of HTTP/2 sessions: the core pool plus `request` and an undici `Dispatcher` view. */
export interface Http2Pool extends Pool<Client, Http2Node> {
  /**
   * undici's `request` over a pooled session: takes a stream slot, sends, resolves with
   * `{ statusCode, headers, body, trailers, ... }`. The slot is given back when the response has
   * fully arrived (read or not), fails, or the body is destroyed or dumped.
   */
  request<TOpaque = null>(options: Http2RequestOptions<TOpaque>): Promise<Dispatcher.ResponseData<TOpaque>>;
  /** The pool as an undici Dispatcher, for `fetch(url, { dispatcher })` and `undici.request`. */
  readonly dispatcher: Http2PoolDispatcher;
}

/**
 * Creates a pool of HTTP/2 sessions (undici Clients with `allowH2`) over one or more origins.
 *
 * ```ts
 * const pool = createHttp2Pool({ nodes: [{ id: 'api', origin: 'https://api.internal:8443' }] });
 * const { statusCode, body } = await pool.request({ method: 'GET', path: '/health' });
 * ```
 */
export function createHttp2Pool(options: Http2PoolOptions): Http2Pool {
  const { transport, poolOptions } = resolveHttp2Options(options);
  const pool = createPool<Client, Http2Node>({ ...poolOptions, factory: createSessionFactory(transport) });
  const dispatcher = new Http2PoolDispatcher(pool, transport);
  const addNode = pool.addNode.bind(pool);
  // Core's pool object carries only its public API, so these helpers shadow nothing.
  return Object.assign(pool, {
    dispatcher: dispatcher,
    request<TOpaque = null>(requestOptions: Http2RequestOptions<TOpaque>): Promise<Dispatcher.ResponseData<TOpaque>> {
      return dispatcher.request(requestOptions);
    },
    addNode(node: Http2Node): void {
      checkNode(node, 'node');
      addNode(node);
    },
  });
}
