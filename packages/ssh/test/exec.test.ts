import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSshPool, isPoolError, isSshError, type SshPool, type SshPoolOptions } from '@pool/ssh';
import { startSshServer, type SshTestServer } from '@pool/testkit/ssh';
import { rejection, waitFor, passwordPool } from './support.js';

let server: SshTestServer;
beforeAll(async () => { server = await startSshServer(); });
afterAll(async () => { await server.close(); });

function makePool(extra: Partial<SshPoolOptions> = {}): SshPool {
  return passwordPool(server, extra);
}

describe('exec against an ssh2 Server', () => {
  it('resolves stdout, stderr, exit code and signal', async () => {
    const pool = makePool();
    try {
      expect(await pool.exec('echo hello world')).toEqual({ stdout: 'hello world\n', stderr: '', code: 0, signal: null });
      expect(await pool.exec('echo-stderr oops')).toMatchObject({ stdout: '', stderr: 'oops\n', code: 0 });
      expect(await pool.exec('exit 3')).toMatchObject({ code: 3, signal: null });
      expect(await pool.exec('nope')).toMatchObject({ code: 127 });
      expect(await pool.exec('cat', { stdin: 'piped in\n' })).toMatchObject({ stdout: 'piped in\n', code: 0 });
      // Without stdin the channel gets EOF at once, so `cat` cannot hang.
      expect(await pool.exec('cat')).toMatchObject({ stdout: '', code: 0 });
      expect(pool.stats()).toMatchObject({ leases: 0, created: 1 });
    } finally {
      await pool.close();
    }
  });

  it('runs 50 concurrent execs over a few multiplexed connections', async () => {
    const pool = makePool({ maxPerNode: 5 });
    const acceptedBefore = server.connectionsAccepted;
    try {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.exec(`echo n${i}`)));
      results.forEach((result, i) => expect(result).toMatchObject({ stdout: `n${i}\n`, code: 0 }));
      const stats = pool.stats();
      expect(stats.created).toBeLessThanOrEqual(5);
      expect(stats.leases).toBe(0);
      expect(server.connectionsAccepted - acceptedBefore).toBe(stats.created);
      expect(server.maxConcurrentSessionsSeen).toBeLessThanOrEqual(10);
    } finally {
      await pool.close();
    }
  });

  it('puts 10 channels on a connection by default (OpenSSH MaxSessions)', async () => {
    const fresh = await startSshServer({ maxSessions: 20 });
    const pool = createSshPool({
      nodes: [{ id: 'f', host: fresh.host, port: fresh.port, hostKeys: [fresh.hostKey.fingerprint] }],
      username: fresh.username, password: fresh.password, knownHostsFile: false,
    });
    try {
      await pool.exec('echo warm');
      const running = Promise.allSettled(Array.from({ length: 12 }, () => pool.exec('sleep 0.5')));
      await waitFor(() => pool.stats().leases === 12, '12 leases');
      expect((await running).every((result) => result.status === 'fulfilled')).toBe(true);
      expect(fresh.maxConcurrentSessionsSeen).toBe(10);
      expect(pool.stats().created).toBeGreaterThanOrEqual(2);
    } finally {
      await pool.close();
      await fresh.close();
    }
  });

  it('shares one connection between concurrent channels up to maxLeasesPerConnection', async () => {
    const pool = makePool({ maxPerNode: 1, maxLeasesPerConnection: 4 });
    try {
      const running = Promise.allSettled(Array.from({ length: 4 }, () => pool.exec('sleep 1')));
      await waitFor(() => pool.stats().leases === 4, '4 leases');
      expect(pool.stats()).toMatchObject({ total: 1, active: 1, leases: 4 });
      expect((await running).map((result) => result.status === 'fulfilled' && result.value.code)).toEqual([0, 0, 0, 0]);
    } finally {
      await pool.close();
    }
  });

  it('honours a node maxSessions below maxLeasesPerConnection', async () => {
    const small = await startSshServer({ maxSessions: 2 });
    const pool = createSshPool({
      nodes: [{ id: 's', host: small.host, port: small.port, hostKeys: [small.hostKey.fingerprint], maxSessions: 2 }],
      username: small.username, password: small.password, knownHostsFile: false, maxPerNode: 2,
    });
    try {
      const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => pool.exec(`echo ${i}`)));
      expect(results.map((result) => result.status === 'fulfilled' && result.value.code)).toEqual(Array(12).fill(0));
      expect(small.maxConcurrentSessionsSeen).toBeLessThanOrEqual(2);
    } finally {
      await pool.close();
      await small.close();
    }
  });

  it('learns a MaxSessions below maxLeasesPerConnection from a refused channel and retries', async () => {
    const small = await startSshServer({ maxSessions: 3 });
    const pool = createSshPool({
      nodes: [{ id: 's', host: small.host, port: small.port, hostKeys: [small.hostKey.fingerprint] }],
      username: small.username, password: small.password, knownHostsFile: false, maxPerNode: 2,
    });
    try {
      await pool.exec('echo warm');
      const burst = async () => (await Promise.allSettled(Array.from({ length: 8 }, () => pool.exec('sleep 0.3'))))
        .map((result) => (result.status === 'fulfilled' ? result.value.code : String(result.reason)));
      expect(await burst()).toEqual(Array(8).fill(0));
      // The first connection, over the limit, was replaced once; the next ones carry 3 channels.
      expect(pool.stats()).toMatchObject({ created: 3, destroyed: 1 });
      expect(await burst()).toEqual(Array(8).fill(0));
      expect(pool.stats()).toMatchObject({ created: 3, destroyed: 1 });
    } finally {
      await pool.close();
      await small.close();
    }
  });

  it('rejects TIMEOUT after timeoutMs with the channel closed, and keeps the connection', async () => {
    const pool = makePool();
    try {
      await pool.exec('echo warm');
      const started = Date.now();
      const error = await rejection(pool.exec('sleep 5', { timeoutMs: 200 }));
      expect(isSshError(error, 'TIMEOUT')).toBe(true);
      expect((error as Error).message).toMatch(/timeoutMs 200.*closed its channel/);
      expect((error as Error).message).not.toContain('sleep');
      expect(Date.now() - started).toBeLessThan(2_000);
      // The lease ends exactly once, when the server has confirmed the close; the connection is reused.
      await waitFor(() => pool.stats().leases === 0, 'the lease to end');
      expect(pool.stats()).toMatchObject({ leases: 0, destroyed: 0, released: 2 });
      expect(await pool.exec('echo after')).toMatchObject({ stdout: 'after\n' });
      expect(pool.stats().created).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('rejects ABORTED when the signal aborts, before or during the command', async () => {
    const pool = makePool();
    try {
      const early = await rejection(pool.exec('echo x', { signal: AbortSignal.abort(new Error('stop')) }));
      expect(isPoolError(early, 'ABORTED')).toBe(true);
      const controller = new AbortController();
      const running = pool.exec('sleep 5', { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('user gave up')), 100);
      const late = await rejection(running);
      expect(isPoolError(late, 'ABORTED')).toBe(true);
      expect(((late as Error).cause as Error).message).toBe('user gave up');
      await waitFor(() => pool.stats().leases === 0, 'the lease to end');
    } finally {
      await pool.close();
    }
  });

  it('closes the channel when output passes maxOutputBytes', async () => {
    const pool = makePool();
    try {
      const error = await rejection(pool.exec('cat', { stdin: 'x'.repeat(5_000), maxOutputBytes: 1_000 }));
      expect(isSshError(error, 'OUTPUT_TOO_LARGE')).toBe(true);
      await waitFor(() => pool.stats().leases === 0, 'the lease to end');
    } finally {
      await pool.close();
    }
  });

  it('hands out the ssh2 Client itself through use()', async () => {
    const pool = makePool();
    try {
      const banner = await pool.use((client) => new Promise<string>((resolve, reject) => {
        client.exec('echo raw', (error, channel) => {
          if (error) return reject(error);
          let out = '';
          channel.on('data', (chunk: Buffer) => { out += chunk.toString(); });
          channel.on('close', () => resolve(out));
        });
      }));
      expect(banner).toBe('raw\n');
    } finally {
      await pool.close();
    }
  });
});
