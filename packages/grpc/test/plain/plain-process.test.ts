import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startGrpcServer, type GrpcTestServer } from '@pool/testkit/grpc';
import { startTcpServer } from '@pool/testkit/tcp';
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

async function server(options: Parameters<typeof startGrpcServer>[0] = {}): Promise<GrpcTestServer> {
  const started = await startGrpcServer(options);
  stops.push(() => started.stop());
  return started;
}

function scenario(name: string, target: string, env: Record<string, string> = {}): Promise<ChildResult> {
  return runScenario(name, { TARGET: target, ...env });
}

/** The script asks for the restart at the point it is idle; the answer comes once the server listens again. */
async function restarter(restart: () => Promise<void>): Promise<Record<string, string>> {
  const control = await startControlServer({ restart });
  stops.push(() => control.stop());
  return { CONTROL: control.url };
}

describe('@pool/grpc in a plain node process', () => {
  test('the first unary, callback and stream calls to a healthy server answer, and drain leaves nothing open', async () => {
    const healthy = await server();
    const result = await scenario('healthy', healthy.target);
    expectClean(result);
    expect(result.lines).toEqual(['value hello', 'value callback', 'stream 0,1,2', 'created 1 destroyed 1']);
  });

  test('calls keep the process alive, the idle channel does not', async () => {
    const healthy = await server();
    const result = await scenario('no-drain', healthy.target);
    expectClean(result);
    expect(result.lines).toEqual(['value hello', 'no drain']);
  });

  test('a refused port ends in CREATE_FAILED whose message and cause name ECONNREFUSED', async () => {
    const gone = await server();
    await gone.stop();
    const result = await scenario('refused', gone.target);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error CREATE_FAILED .*TRANSIENT_FAILURE: connect ECONNREFUSED 127\.0\.0\.1:\d+/);
    expect(result.lines[1]).toBe('cause ECONNREFUSED');
    // The call through the pool gets UNAVAILABLE (14) with the same reason.
    expect(result.lines[2]).toMatch(/^error 14 .*ECONNREFUSED/);
  });

  test('a server that accepts and never speaks HTTP/2 ends in CREATE_FAILED after createTimeoutMs', async () => {
    const blackhole = await startTcpServer({ mode: 'silent' });
    stops.push(() => blackhole.stop());
    const result = await scenario('blackhole', `127.0.0.1:${blackhole.port}`);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error CREATE_FAILED /);
    expect(result.lines.some((line) => /^error 14 /.test(line))).toBe(true);
  });

  test('a held lease: acquire with timeoutMs prints ACQUIRE_TIMEOUT, a unary call gets UNAVAILABLE naming it', async () => {
    const healthy = await server();
    const result = await scenario('held', healthy.target);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error ACQUIRE_TIMEOUT /);
    expect(result.lines[1]).toMatch(/^error 14 .*ACQUIRE_TIMEOUT/);
  });

  test('an untrusted certificate ends in CREATE_FAILED naming the certificate error; the trusted CA works', async () => {
    const certificates = makeTestCertificates();
    const secure = await server({ tls: certificates });
    const target = `localhost:${secure.port}`;
    const bad = await scenario('bad-tls', target);
    expectClean(bad);
    expect(bad.lines[0]).toMatch(/^error CREATE_FAILED .*TRANSIENT_FAILURE: .*(certificate|UNABLE_TO_VERIFY)/i);
    const good = await scenario('good-tls', target, { CA: certificates.ca });
    expectClean(good);
    expect(good.lines).toEqual(['value over tls']);
  });

  test('a backend that went down while the pool was idle serves again once it is back', async () => {
    const healthy = await server();
    const result = await scenario('restart', healthy.target, await restarter(() => healthy.restart({ downtimeMs: 200 })));
    expectClean(result);
    expect(result.lines).toEqual(['value before', 'restart 200', 'value after']);
  });

  test('misspelled options (pool and per call) and targets grpc-js cannot use are INVALID_OPTIONS', async () => {
    const result = await scenario('misspelled', '127.0.0.1:1');
    expectClean(result);
    expect(result.lines).toEqual([
      'error INVALID_OPTIONS Unknown option maxPerNod (did you mean maxPerNode?)',
      'error INVALID_OPTIONS Unknown option healthCheck.servic (did you mean healthCheck.service?)',
      expect.stringMatching(/^error INVALID_OPTIONS Invalid option nodes\[0\]\.target: got "127\.0\.0\.1:70000", has port 70000/),
      expect.stringMatching(/^error INVALID_OPTIONS Invalid option nodes\[0\]\.target: got "http:\/\/127\.0\.0\.1:50051", uses the scheme http:/),
      'error INVALID_OPTIONS Unknown option aquire (did you mean acquire?)',
      'error INVALID_OPTIONS Unknown option acquire.timeoutMS (did you mean acquire.timeoutMs?)',
    ]);
  });

  test('a per-call acquire timeoutMs that would never fire is INVALID_OPTIONS', async () => {
    const healthy = await server();
    const result = await scenario('bad-timeout', healthy.target);
    expectClean(result);
    expect(result.lines).toHaveLength(3);
    for (const line of result.lines) expect(line).toMatch(/^error INVALID_OPTIONS Invalid option acquire\.timeoutMs/);
  });

  test("the README's first example runs as pasted into a .mjs file", async () => {
    const certificates = makeTestCertificates();
    const greeterProto = fileURLToPath(new URL('./scripts/greeter.proto', import.meta.url));
    const proto = grpc.loadPackageDefinition(protoLoader.loadSync(greeterProto)) as unknown as {
      helloworld: { Greeter: grpc.ServiceClientConstructor };
    };
    const greeter = new grpc.Server();
    greeter.addService(proto.helloworld.Greeter.service, {
      SayHello: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        callback(null, { message: `Hello ${call.request.name}` });
      },
    });
    const credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(certificates.cert), private_key: Buffer.from(certificates.key) }]);
    const port = await new Promise<number>((resolve, reject) => {
      greeter.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
    });
    stops.push(() => new Promise((resolve) => greeter.tryShutdown(() => resolve())));
    // The example verifies TLS against the default roots; grpc-js reads them from this file.
    const dir = mkdtempSync(join(tmpdir(), 'pool-grpc-readme-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'ca.pem'), certificates.ca);
    const result = await runReadmeExample([
      ["'greeter.proto'", JSON.stringify(greeterProto)],
      ["'greeter-1.internal:50051'", `'localhost:${port}'`],
    ], { GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: join(dir, 'ca.pem') });
    expectClean(result);
    expect([...result.lines].sort()).toEqual(['Hello again', 'Hello pool']);
  });
});
