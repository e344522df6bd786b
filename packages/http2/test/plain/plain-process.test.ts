import { startHttp2Server, type Http2TestServer } from '@pool/testkit/http2';
import { startTcpServer, type TcpTestServer } from '@pool/testkit/tcp';
import { makeTestCertificates } from '@pool/testkit/tls';
import { afterEach, describe, expect, test } from 'vitest';
import { startControlServer } from '@pool/testkit/control';
import { expectClean, runReadmeExample, runScenario, type ChildResult } from './child.js';

// Scripts run as plain `node` processes: nothing but the pool holds their event loop, so a
// promise the pool forgets to hold ends the script with exit code 13 instead of an answer.

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function h2(options: Parameters<typeof startHttp2Server>[0] = {}): Promise<Http2TestServer> {
  const server = await startHttp2Server(options);
  stops.push(() => server.stop());
  return server;
}

async function tcp(options: Parameters<typeof startTcpServer>[0] = {}): Promise<TcpTestServer> {
  const server = await startTcpServer(options);
  stops.push(() => server.stop());
  return server;
}

function scenario(name: string, origin: string, env: Record<string, string> = {}): Promise<ChildResult> {
  return runScenario(name, { ORIGIN: origin, ...env });
}

/** The script asks for the restart at the point it is idle; the answer comes once the server listens again. */
async function restarter(restart: () => Promise<void>): Promise<Record<string, string>> {
  const control = await startControlServer({ restart });
  stops.push(() => control.stop());
  return { CONTROL: control.url };
}

// Each test starts child node processes (two for the first, with test certificates): give them room on a loaded machine.
describe('@pool/http2 in a plain node process', { timeout: 60_000 }, () => {
  test('the first request to a healthy server answers (h2c and TLS), and drain leaves nothing open', async () => {
    const plain = await h2();
    const result = await scenario('healthy', plain.origin);
    expectClean(result);
    expect(result.lines).toEqual(['value 200 hello', 'created 1 destroyed 1']);
    const certificates = makeTestCertificates();
    const secure = await h2({ tls: certificates });
    const overTls = await scenario('healthy', secure.origin, { CA: certificates.ca });
    expectClean(overTls);
    expect(overTls.lines).toEqual(['value 200 hello', 'created 1 destroyed 1']);
  });

  test('requests, the Dispatcher path and a body being read keep the process alive; the idle session does not', async () => {
    const plain = await h2();
    const result = await scenario('no-drain', plain.origin);
    expectClean(result);
    expect(result.lines).toEqual(['value 200 hello', 'value 200 via dispatcher', 'read delayed', 'no drain']);
  });

  test('a refused port ends in CREATE_FAILED naming ECONNREFUSED', async () => {
    const gone = await h2();
    await gone.stop();
    const result = await scenario('refused', gone.origin);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error CREATE_FAILED .*ECONNREFUSED/);
  });

  test('a server that accepts and never speaks HTTP/2 ends in CREATE_FAILED after createTimeoutMs', async () => {
    const blackhole = await tcp({ mode: 'silent' });
    const result = await scenario('blackhole', `http://127.0.0.1:${blackhole.port}`);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error CREATE_FAILED /);
  });

  test('a held lease: request with acquireTimeoutMs and acquire with timeoutMs print ACQUIRE_TIMEOUT', async () => {
    const plain = await h2();
    const result = await scenario('held', plain.origin);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error ACQUIRE_TIMEOUT /);
    expect(result.lines[1]).toMatch(/^error ACQUIRE_TIMEOUT /);
  });

  test('an untrusted certificate ends in CREATE_FAILED with the TLS error as cause', async () => {
    const secure = await h2({ tls: makeTestCertificates() });
    const result = await scenario('bad-tls', secure.origin);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error CREATE_FAILED /);
    expect(result.lines[1]).toBe('cause UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  test('a backend that went down while the pool was idle serves again once it is back', async () => {
    const plain = await h2();
    const result = await scenario('restart', plain.origin, await restarter(() => plain.restart({ downtimeMs: 200 })));
    expectClean(result);
    expect(result.lines).toEqual(['value 200 hello', 'restart 200', 'value 200 hello', 'created 2']);
  });

  test('misspelled options, at the top and inside client and connect, are INVALID_OPTIONS naming the nearest name', async () => {
    const result = await scenario('misspelled', 'http://127.0.0.1:1');
    expectClean(result);
    expect(result.lines).toEqual([
      'error INVALID_OPTIONS Unknown option sessionsPerNod (did you mean sessionsPerNode?)',
      'error INVALID_OPTIONS Unknown option client.maxHeaderSzie (did you mean client.maxHeaderSize?)',
      'error INVALID_OPTIONS Unknown option connect.serverName (did you mean connect.servername?)',
    ]);
  });

  test('a per-request acquireTimeoutMs that would never fire is INVALID_OPTIONS', async () => {
    const plain = await h2();
    const result = await scenario('bad-timeout', plain.origin);
    expectClean(result);
    expect(result.lines).toHaveLength(3);
    for (const line of result.lines) expect(line).toMatch(/^error INVALID_OPTIONS Invalid option acquireTimeoutMs/);
  });

  test("the README's first example runs as pasted into a .mjs file", async () => {
    const certificates = makeTestCertificates();
    const api = await h2({
      tls: certificates,
      handler: (stream, _headers, url) => {
        if (url.pathname !== '/users/42') return false;
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ id: 42, name: 'Ada' }));
        return true;
      },
    });
    const result = await runReadmeExample([
      ["'https://api-1.internal:8443'", `'${api.origin}'`],
      ["'https://api-2.internal:8443'", `'${api.origin}'`],
    ], { INTERNAL_CA: certificates.ca });
    expectClean(result);
    expect(result.lines).toEqual(['200 { id: 42, name: \'Ada\' }']);
  });
});
