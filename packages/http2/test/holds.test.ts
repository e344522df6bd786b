import { openProcessHolds } from '@pool/core';
import { fetch, request as undiciRequest } from 'undici';
import { describe, expect, it } from 'vitest';
import { makePool, startServer } from './helpers.js';

// Each pending request holds the process (DESIGN "Process lifetime"); the holds must all be
// let go however the request ends, or a script would never exit.
describe('process holds of requests', () => {
  it('are held while requests are pending and all let go when they end, whatever the ending', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', origin: server.origin }], retryOnSessionLoss: false });
    const before = openProcessHolds();

    const slow = pool.request({ method: 'GET', path: '/delay?ms=200' });
    expect(openProcessHolds()).toBeGreaterThan(before);
    const response = await slow;
    // The body is still arriving: the request holds until it has.
    await response.body.text();
    expect(openProcessHolds()).toBe(before);

    await (await undiciRequest(`${server.origin}/hello`, { dispatcher: pool.dispatcher })).body.text();
    await (await fetch(`${server.origin}/hello`, { dispatcher: pool.dispatcher })).text();
    const controller = new AbortController();
    const hung = pool.request({ method: 'GET', path: '/hang', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(hung).rejects.toThrow();
    await expect(pool.request({ method: 'GET', path: '/hello', acquireTimeoutMs: Number.NaN })).rejects.toThrow(/acquireTimeoutMs/);
    await expect(pool.request({ method: 'GET', path: '/hello', node: 'nope' })).rejects.toThrow();
    const unreadBody = await pool.request({ method: 'GET', path: '/bytes?n=10' });
    await unreadBody.body.dump();
    // A handler whose onConnect throws: the error is the caller's, the hold does not outlive it.
    expect(() => pool.dispatcher.dispatch({ method: 'GET', path: '/hello', origin: server.origin }, {
      onConnect() {
        throw new Error('handler bug');
      },
    })).toThrow('handler bug');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(openProcessHolds()).toBe(before);
  });
});
