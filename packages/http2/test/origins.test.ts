import { createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { fetch, getGlobalDispatcher, request, setGlobalDispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { isPoolError } from '@pool/http2';
import { makePool, startServer } from './helpers.js';

const FOREIGN = 'http://elsewhere.example:8080';

describe('requests for an origin no node serves', () => {
  it('pool.request refuses them with INVALID_OPTIONS naming origin; nothing reaches the nodes', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const error = await pool.request({ method: 'GET', path: '/hello', origin: FOREIGN }).catch((caught: unknown) => caught);
    expect(isPoolError(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toContain('Invalid option origin: got "http://elsewhere.example:8080"');
    expect((error as Error).message).toContain(server.origin);
    expect((error as Error).message).toContain('anyOrigin: true');
    expect(server.streamsReceived).toBe(0);
    expect(pool.stats()).toMatchObject({ leases: 0, acquired: 0 });
    // The pool's own origin, no origin at all, and an explicit node still go through.
    const own = await pool.request({ method: 'GET', path: '/hello', origin: server.origin });
    expect(await own.body.text()).toBe('hello');
    const plain = await pool.request({ method: 'GET', path: '/hello' });
    expect(await plain.body.text()).toBe('hello');
    const named = await pool.request({ method: 'GET', path: '/hello', origin: FOREIGN, node: 'a' });
    expect(await named.body.text()).toBe('hello');
    expect(server.streamsReceived).toBe(3);
  });

  it('shows only scheme, host and port of the refused origin, never credentials or a path', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const error = await pool.request({ method: 'GET', path: '/x', origin: new URL('https://user:hunter2@other.example/secret?token=t0k') })
      .catch((caught: unknown) => caught);
    expect(isPoolError(error, 'INVALID_OPTIONS')).toBe(true);
    const text = `${(error as Error).message} ${(error as Error).stack ?? ''}`;
    expect(text).toContain('"https://other.example"');
    expect(text).not.toMatch(/hunter2|secret|t0k|user/);
  });

  it('the dispatcher refuses them too: fetch and undici.request through pool.dispatcher, and under setGlobalDispatcher', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }] });
    const viaRequest = await request(`${FOREIGN}/hello`, { dispatcher: pool.dispatcher }).catch((caught: unknown) => caught);
    expect(isPoolError(viaRequest, 'INVALID_OPTIONS')).toBe(true);
    const viaFetch = await fetch(`${FOREIGN}/hello`, { dispatcher: pool.dispatcher }).catch((caught: unknown) => caught);
    expect(viaFetch).toBeInstanceOf(TypeError); // fetch's "fetch failed", the pool's error as cause
    expect(isPoolError((viaFetch as Error).cause, 'INVALID_OPTIONS')).toBe(true);
    const previous = getGlobalDispatcher();
    setGlobalDispatcher(pool.dispatcher);
    try {
      const global = await fetch(`${FOREIGN}/hello`, { headers: { authorization: 'Bearer for-elsewhere' } }).catch((caught: unknown) => caught);
      expect(isPoolError((global as Error).cause, 'INVALID_OPTIONS')).toBe(true);
      const ownOrigin = await fetch(`${server.origin}/hello`);
      expect(await ownOrigin.text()).toBe('hello');
    } finally {
      setGlobalDispatcher(previous);
    }
    expect(server.streamsReceived).toBe(1);
    expect(pool.stats().leases).toBe(0);
  });

  it('with anyOrigin: true they go to a node the balancer picks, as undici\'s Pool does', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], anyOrigin: true });
    const response = await pool.request({ method: 'GET', path: '/hello', origin: FOREIGN });
    expect(await response.body.text()).toBe('hello');
    const fetched = await fetch(`${FOREIGN}/hello`, { dispatcher: pool.dispatcher });
    expect(await fetched.text()).toBe('hello');
    expect(server.streamsReceived).toBe(2);
  });

  it('a redirect to another host is refused too, not followed onto a node', async () => {
    let served = 0;
    const redirecting = createServer((req, res) => {
      served++;
      res.writeHead(302, { location: `${FOREIGN}/landing` });
      res.end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`;
      const pool = makePool({ nodes: [{ id: 'a', origin }] });
      const error = await fetch(`${origin}/start`, { dispatcher: pool.dispatcher, headers: { authorization: 'Bearer t' } })
        .catch((caught: unknown) => caught);
      expect(isPoolError((error as Error).cause, 'INVALID_OPTIONS')).toBe(true);
      expect(served).toBe(1); // the redirect target never reached the node
      await pool.close();
    } finally {
      await new Promise((resolve) => redirecting.close(resolve));
    }
  });

  it('refuses a non-boolean anyOrigin', () => {
    expect(() => makePool({ nodes: [{ id: 'a', origin: 'http://127.0.0.1:1' }], anyOrigin: 'yes' as unknown as boolean }))
      .toThrow(/Invalid option anyOrigin: got "yes", must be a boolean/);
  });
});
