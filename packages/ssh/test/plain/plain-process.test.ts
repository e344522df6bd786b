import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlServer } from '@pool/testkit/control';
import { startSshServer, type SshTestServer } from '@pool/testkit/ssh';
import { startTcpServer } from '@pool/testkit/tcp';
import { afterEach, describe, expect, test } from 'vitest';
import { expectClean, runReadmeExample, runScenario, type ChildResult } from './child.js';

// Scripts run as plain `node` processes: nothing but the pool holds their event loop, so a
// promise the pool forgets to hold ends the script with exit code 13 instead of an answer.

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function server(): Promise<SshTestServer> {
  const started = await startSshServer({ username: 'deploy' });
  stops.push(() => started.close());
  return started;
}

function scenario(name: string, ssh: { port: number; password?: string; hostKey?: { fingerprint: string } }, env: Record<string, string> = {}): Promise<ChildResult> {
  return runScenario(name, {
    PORT: String(ssh.port),
    PASSWORD: ssh.password ?? 'unused',
    FINGERPRINT: ssh.hostKey?.fingerprint ?? 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
    ...env,
  });
}

describe('@pool/ssh in a plain node process', () => {
  test('the first exec and sftp against a healthy server answer, and drain leaves nothing open', async () => {
    const ssh = await server();
    const result = await scenario('healthy', ssh);
    expectClean(result);
    expect(result.lines).toEqual(['value 0 hello', 'value listed 0', 'created 1 destroyed 1']);
  });

  test('a refused port ends in CREATE_FAILED naming ECONNREFUSED', async () => {
    const ssh = await server();
    await ssh.stop();
    const result = await scenario('refused', ssh);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error CREATE_FAILED .*ECONNREFUSED/);
  });

  test('a server that accepts and never greets ends in CREATE_FAILED after createTimeoutMs', async () => {
    const blackhole = await startTcpServer({ mode: 'silent' });
    stops.push(() => blackhole.stop());
    const result = await scenario('blackhole', { port: blackhole.port });
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error CREATE_FAILED .*timed out after 300 ms/);
  });

  test('a held lease: exec with acquireTimeoutMs and acquire with timeoutMs print ACQUIRE_TIMEOUT', async () => {
    const ssh = await server();
    const result = await scenario('held', ssh);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error ACQUIRE_TIMEOUT /);
    expect(result.lines[1]).toMatch(/^error ACQUIRE_TIMEOUT /);
  });

  test('an unknown host key fails the create with one connection, nothing trusted, no password sent', async () => {
    const ssh = await server();
    const result = await scenario('unknown-host-key', ssh);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error CREATE_FAILED .*host key of node "web-1" .* is unknown/);
    expect(result.lines).toContain('cause HOST_KEY_UNKNOWN');
    expect(result.lines).toContain('failed within 2 s');
    expect(result.stdout).not.toContain(ssh.password);
    // core retries the create; the retries repeat the refusal without connecting again.
    expect(ssh.connectionsAccepted).toBe(1);
  });

  test('a wrong password ends in CREATE_FAILED / AUTH_FAILED, the password never printed', async () => {
    const ssh = await server();
    const result = await scenario('wrong-password', ssh);
    expectClean(result);
    expect(result.lines[0]).toMatch(/^error CREATE_FAILED .*authentication as "deploy" .* failed/);
    expect(result.lines).toContain('cause AUTH_FAILED');
    expect(result.stdout).not.toContain('not-the-password');
  });

  test('a backend that went down while the pool was idle serves again once it is back', async () => {
    const ssh = await server();
    const control = await startControlServer({
      restart: async () => {
        await ssh.stop();
        await new Promise((resolve) => setTimeout(resolve, 200));
        await ssh.start();
      },
    });
    stops.push(() => control.stop());
    const result = await scenario('restart', ssh, { CONTROL: control.url });
    expectClean(result);
    expect(result.lines).toEqual(['value 0 before', 'restart 200', 'value 0 after']);
  });

  test('misspelled options, at the top, inside connectOptions and per call, are INVALID_OPTIONS naming the nearest name', async () => {
    const ssh = await server();
    const result = await scenario('misspelled', ssh);
    expectClean(result);
    expect(result.lines).toEqual([
      'error INVALID_OPTIONS Unknown option maxPerNod (did you mean maxPerNode?)',
      'error INVALID_OPTIONS Unknown option knownHost (did you mean knownHosts?)',
      'error INVALID_OPTIONS Unknown option connectOptions.idnet (did you mean connectOptions.ident?)',
      'error INVALID_OPTIONS Unknown option timeoutMS (did you mean timeoutMs?)',
      'error INVALID_OPTIONS Unknown option maxOutputBytes',
      'error INVALID_OPTIONS Invalid option command: got a number, must be a non-empty string',
      'error INVALID_OPTIONS Invalid option fn: got "ls", must be a function (sftp) => result, called with the SFTP session',
    ]);
    expect(ssh.execs).toBe(0);
  });

  test('per-call timeouts that would never fire are INVALID_OPTIONS naming them', async () => {
    const ssh = await server();
    const result = await scenario('bad-timeout', ssh);
    expectClean(result);
    expect(result.lines).toHaveLength(5);
    for (const line of result.lines.slice(0, 3)) expect(line).toMatch(/^error INVALID_OPTIONS Invalid option timeoutMs/);
    expect(result.lines[3]).toMatch(/^error INVALID_OPTIONS Invalid option acquireTimeoutMs/);
    expect(result.lines[4]).toMatch(/^error INVALID_OPTIONS Invalid option timeoutMs/);
    expect(ssh.execs).toBe(0);
  });

  test("the README's first example runs as pasted into a .mjs file", async () => {
    const ssh = await server();
    const dir = mkdtempSync(join(tmpdir(), 'pool-ssh-readme-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const keyFile = join(dir, 'id_ed25519');
    writeFileSync(keyFile, ssh.clientKey.private, { mode: 0o600 });
    const result = await runReadmeExample([
      ["host: 'web-1.internal'", `host: '127.0.0.1', port: ${ssh.port}`],
      ['SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s', ssh.hostKey.fingerprint],
      ["'/etc/deploy/id_ed25519'", JSON.stringify(keyFile)],
      // The test server runs a few commands of its own, not uptime.
      ["pool.exec('uptime'", "pool.exec('echo up 42 days'"],
    ]);
    expectClean(result);
    expect(result.lines).toEqual(['0 up 42 days']);
  });
});
