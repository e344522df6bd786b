import { makeTestCertificates } from '@pool/testkit/tls';
import { startTcpServer, type TcpTestServer } from '@pool/testkit/tcp';
import { afterEach, describe, expect, test } from 'vitest';
import { startControlServer } from '@pool/testkit/control';
import { expectClean, runReadmeExample, runScenario, type ChildResult } from './child.js';

// Scripts run as plain `node` processes: nothing but the pool holds their event loop, so a
// promise the pool forgets to hold ends the script with exit code 13 instead of an answer.

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function server(options: Parameters<typeof startTcpServer>[0] = {}): Promise<TcpTestServer> {
  const started = await startTcpServer(options);
  stops.push(() => started.stop());
  return started;
}

function scenario(name: string, port: number, env: Record<string, string> = {}): Promise<ChildResult> {
  return runScenario(name, { PORT: String(port), ...env });
}

/** The script asks for the restart at the point it is idle; the answer comes once the server listens again. */
async function restarter(restart: () => Promise<void>): Promise<Record<string, string>> {
  const control = await startControlServer({ restart });
  stops.push(() => control.stop());
  return { CONTROL: control.url };
}

describe('@pool/tcp in a plain node process', () => {
  test('the first call against a healthy server answers, and drain leaves nothing open', async () => {
    const echo = await server();
    const result = await scenario('healthy', echo.port);
    expectClean(result);
    expect(result.lines).toEqual(['value hello', 'created 1 destroyed 1']);
  });

  test('a refused port ends in CREATE_FAILED naming ECONNREFUSED', async () => {
    const gone = await server();
    await gone.stop();
    const result = await scenario('refused', gone.port);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error CREATE_FAILED .*ECONNREFUSED/);
  });

  test('a server that never completes the TLS handshake ends in CREATE_FAILED after createTimeoutMs', async () => {
    const blackhole = await server({ mode: 'silent', tls: makeTestCertificates() });
    const started = Date.now();
    const result = await scenario('blackhole', blackhole.port);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error CREATE_FAILED /);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  test('a held lease and timeoutMs print ACQUIRE_TIMEOUT', async () => {
    const echo = await server();
    const result = await scenario('held', echo.port);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error ACQUIRE_TIMEOUT /);
    expect(result.lines[1]).toBe('waited about 300 ms');
  });

  test('an untrusted certificate ends in CREATE_FAILED with the TLS error as cause; the trusted one works', async () => {
    const certificates = makeTestCertificates();
    const tlsEcho = await server({ tls: certificates });
    const bad = await scenario('bad-tls', tlsEcho.port);
    expectClean(bad);
    expect(bad.lines[0]).toMatch(/^error CREATE_FAILED .*(certificate|UNABLE_TO_VERIFY)/i);
    expect(bad.lines[1]).toBe('cause UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(bad.stdout).not.toContain('PRIVATE KEY');
    const good = await scenario('good-tls', tlsEcho.port, { CA: certificates.ca });
    expectClean(good);
    expect(good.lines).toEqual(['value hello']);
  });

  test('a backend that went down while the pool was idle serves again once it is back', async () => {
    const echo = await server();
    const result = await scenario('restart', echo.port, await restarter(() => echo.restart({ downtimeMs: 200 })));
    expectClean(result);
    expect(result.lines).toEqual(['value before', 'restart 200', 'value after', 'created 2']);
  });

  test('a misspelled option, at the top or in a node\'s tls, is INVALID_OPTIONS naming it and the nearest name', async () => {
    const result = await scenario('misspelled', 1);
    expectClean(result);
    expect(result.lines).toEqual([
      'error INVALID_OPTIONS Unknown option maxPerNod (did you mean maxPerNode?)',
      'error INVALID_OPTIONS Unknown option nodes[0].tls.rejectUnauthorised (did you mean nodes[0].tls.rejectUnauthorized?)',
    ]);
  });

  test('per-call timeouts that would never fire are INVALID_OPTIONS', async () => {
    const echo = await server();
    const result = await scenario('bad-timeout', echo.port);
    expectClean(result);
    expect(result.lines).toHaveLength(3);
    for (const line of result.lines) expect(line).toMatch(/^error INVALID_OPTIONS .*timeoutMs/);
  });

  test("the README's first example runs as pasted into a .mjs file", async () => {
    const echo = await server();
    const result = await runReadmeExample([['port: 7000', `port: ${echo.port}`]]);
    expectClean(result);
    expect(result.lines).toEqual(['GET user:42']);
  });
});
