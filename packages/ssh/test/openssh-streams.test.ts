import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSshPool, isSshError, type SshPool } from '@pool/ssh';
import { startOpenSshServer, type OpenSshServer } from '@pool/testkit/sshd';
import { rejection, waitFor } from './support.js';

// A real OpenSSH sshd; without it beforeAll fails with the install hint (never skips).
let sshd: OpenSshServer;
beforeAll(async () => { sshd = await startOpenSshServer(); });
afterAll(async () => { await sshd?.close(); });

async function withPool(run: (pool: SshPool) => Promise<void>): Promise<void> {
  const pool = createSshPool({
    nodes: [{ id: 'sshd', host: sshd.host, port: sshd.port }],
    username: sshd.username,
    privateKey: sshd.clientKey.private,
    knownHosts: sshd.knownHostsLine,
    knownHostsFile: false,
    createTimeoutMs: 5_000,
    acquireTimeoutMs: 10_000,
  });
  try {
    await run(pool);
  } finally {
    await pool.close();
  }
}

function sink(): Writable & { chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  return Object.assign(new Writable({ write(chunk: Buffer, _encoding, done) { chunks.push(chunk); done(); } }), { chunks });
}

describe('binary output and streaming against OpenSSH sshd', () => {
  it("exec with encoding: 'buffer' returns binary output byte for byte", () => withPool(async (pool) => {
    const small = await pool.exec("printf '\\000\\377\\200abc'", { encoding: 'buffer' });
    expect([...small.stdout]).toEqual([0, 255, 128, 97, 98, 99]);
    const large = await pool.exec("head -c 1000000 /dev/zero | tr '\\000' '\\377'; printf '\\376' >&2", { encoding: 'buffer' });
    expect(large.stdout.length).toBe(1_000_000);
    expect(large.stdout.every((byte) => byte === 255)).toBe(true);
    expect([...large.stderr]).toEqual([254]);
    const payload = randomBytes(300_000);
    const echoed = await pool.exec('cat', { stdin: payload, encoding: 'buffer' });
    expect(echoed.stdout.equals(payload)).toBe(true);
  }));

  it('a timed-out exec carries the output it had read', () => withPool(async (pool) => {
    const error = await rejection(pool.exec('echo started; echo oops >&2; while true; do sleep 0.1; echo tick; done', { timeoutMs: 700 }));
    expect(isSshError(error, 'TIMEOUT')).toBe(true);
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    expect(stdout).toMatch(/^started\n(tick\n)+$/);
    expect(stderr).toBe('oops\n');
    await waitFor(() => pool.stats().leases === 0, 'the lease to end');
  }));

  it('spawn streams a binary round trip through remote gzip; the lease ends with the channel', () => withPool(async (pool) => {
    const payload = Buffer.concat(Array.from({ length: 64 }, () => randomBytes(16_384)));
    const channel = await pool.spawn('gzip -c');
    expect(pool.stats().leases).toBe(1);
    const closed = once(channel, 'close');
    const out = sink();
    await Promise.all([
      pipeline(Readable.from([payload.subarray(0, 500_000), payload.subarray(500_000)]), channel),
      pipeline(channel, createGunzip(), out),
    ]);
    expect(Buffer.concat(out.chunks).equals(payload)).toBe(true);
    expect((await closed)[0]).toBe(0);
    await waitFor(() => pool.stats().leases === 0, 'the lease to end');
  }));

  it('spawn timeoutMs destroys the channel with TIMEOUT and keeps the connection', () => withPool(async (pool) => {
    await pool.exec('echo warm');
    const channel = await pool.spawn('while true; do echo tick; sleep 0.1; done', { timeoutMs: 500 });
    const error = await rejection(pipeline(channel, sink()));
    expect(isSshError(error, 'TIMEOUT')).toBe(true);
    // The loop dies of SIGPIPE once sshd closed its stdout; sshd then confirms the close.
    await waitFor(() => pool.stats().leases === 0, 'the lease to end', 1_900);
    expect(pool.stats()).toMatchObject({ created: 1, destroyed: 0 });
    expect(await pool.exec('echo same connection')).toMatchObject({ stdout: 'same connection\n' });
  }));
});
