import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const sshEntry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const testkitSsh = fileURLToPath(new URL('../../testkit/dist/ssh.js', import.meta.url));

/**
 * A plain process, nothing else holding its event loop: binary exec, a spawned channel read to its
 * end, one timed out; then pool and server close, and the process must exit by itself (no timer,
 * listener or channel of spawn/exec left behind).
 */
const childScript = `
import { once } from 'node:events';
const { createSshPool, isSshError } = await import(${JSON.stringify(sshEntry)});
const { startSshServer } = await import(${JSON.stringify(testkitSsh)});
const server = await startSshServer();
const pool = createSshPool({
  nodes: [{ id: 'a', host: server.host, port: server.port, hostKeys: [server.hostKey.fingerprint] }],
  username: server.username, password: server.password, knownHostsFile: false,
});
const binary = await pool.exec('bytes 256', { encoding: 'buffer' });
const channel = await pool.spawn('bytes 100000');
let bytes = 0;
channel.on('data', (chunk) => { bytes += chunk.length; });
const [code] = await once(channel, 'close');
const slow = await pool.spawn('echo-sleep 30 partial', { timeoutMs: 200 });
slow.resume();
const timedOut = await once(slow, 'close').catch((error) => error);
const failed = await pool.exec('echo-sleep 30 partial', { timeoutMs: 200 }).catch((error) => error);
await pool.close();
await server.close();
console.log(JSON.stringify({ binary: binary.stdout.length, bytes, code, timedOut: isSshError(timedOut, 'TIMEOUT'), partial: failed.stdout }));
`;

describe('plain process', () => {
  it('exec with buffers, spawn and timeouts leave nothing behind: the process exits by itself', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', childScript], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', (exitCode) => { clearTimeout(killer); resolve(exitCode); });
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ binary: 256, bytes: 100_000, code: 0, timedOut: true, partial: 'partial\n' });
  });
});
