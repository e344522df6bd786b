import { createHttp2Pool, type Http2Pool, type Http2PoolOptions } from '@pool/http2';
import { startHttp2Server, type Http2TestServer, type Http2TestServerOptions } from '@pool/testkit/http2';
import { makeTestCertificates } from '@pool/testkit/tls';
import { afterEach } from 'vitest';

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Runs `fn` after the current test, newest first. */
export function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}

export async function startServer(options: Http2TestServerOptions = {}): Promise<Http2TestServer> {
  const server = await startHttp2Server(options);
  onCleanup(() => server.stop());
  return server;
}

/** A TLS server plus the CA its certificate is signed by. */
export async function startSecureServer(options: Omit<Http2TestServerOptions, 'tls'> = {}): Promise<{ server: Http2TestServer; ca: string }> {
  const { ca, cert, key } = makeTestCertificates();
  return { server: await startServer({ ...options, tls: { cert, key } }), ca };
}

export function makePool(options: Http2PoolOptions): Http2Pool {
  const pool = createHttp2Pool(options);
  onCleanup(() => pool.close());
  return pool;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 10 ms until it is true or `timeoutMs` passes; returns the last result. */
export async function eventually(check: () => boolean, timeoutMs = 2_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/**
 * Settles every promise and returns each value, or `error:<code or message>` for a rejection.
 * Start load with it so a rejection is handled even while the test awaits something else.
 */
export function settleAll<T>(promises: Array<Promise<T>>): Promise<Array<T | string>> {
  return Promise.allSettled(promises).then((results) =>
    results.map((result) => {
      if (result.status === 'fulfilled') return result.value;
      const reason = result.reason as { code?: unknown; message?: unknown };
      return `error:${String(reason.code ?? reason.message)}`;
    }),
  );
}
