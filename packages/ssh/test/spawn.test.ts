import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPoolError, isSshError, type SshPool } from '@pool/ssh';
import { startSshServer, type SshTestServer } from '@pool/testkit/ssh';
import { passwordPool, rejection, sleep, waitFor } from './support.js';

let server: SshTestServer;
beforeAll(async () => { server = await startSshServer(); });
afterAll(async () => { await server.close(); });

async function withPool(run: (pool: SshPool) => Promise<void>, on = server): Promise<void> {
  const pool = passwordPool(on);
  try {
    await run(pool);
  } finally {
    await pool.close();
  }
}

/** Collects every chunk written to it. */
function sink(): Writable & { chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  return Object.assign(new Writable({ write(chunk: Buffer, _encoding, done) { chunks.push(chunk); done(); } }), { chunks });
}

describe('pool.spawn: a streaming exec on the ssh2 ClientChannel', () => {
  it('streams stdin in and stdout out, reports the exit status, and ends the lease when the channel closes', () => withPool(async (pool) => {
    const channel = await pool.spawn('cat');
    expect(pool.stats().leases).toBe(1);
    const closed = once(channel, 'close');
    const out = sink();
    const reading = pipeline(channel, out);
    channel.write('first line\n');
    channel.end(Buffer.from([0, 255, 128]));
    await reading;
    const [code] = await closed;
    expect(code).toBe(0);
    expect(Buffer.concat(out.chunks).equals(Buffer.concat([Buffer.from('first line\n'), Buffer.from([0, 255, 128])]))).toBe(true);
    await waitFor(() => pool.stats().leases === 0, 'the lease to end');
    expect(pool.stats()).toMatchObject({ released: 1, destroyed: 0 });
  }));

  it('gives stderr and large binary stdout as streams, with backpressure', () => withPool(async (pool) => {
    const channel = await pool.spawn('bytes 3000000');
    const out = sink();
    await pipeline(channel, out);
    const stdout = Buffer.concat(out.chunks);
    expect(stdout.length).toBe(3_000_000);
    expect(stdout[256 * 1000 + 7]).toBe(7);
    await waitFor(() => pool.stats().leases === 0, 'the lease to end');

    const errChannel = await pool.spawn('echo-stderr on stderr');
    const err = sink();
    channel.resume();
    await Promise.all([pipeline(errChannel.stderr, err), pipeline(errChannel, sink())]);
    expect(Buffer.concat(err.chunks).toString()).toBe('on stderr\n');
    await waitFor(() => pool.stats().leases === 0, 'the lease to end');
  }));

  it('shares connections with exec, and a burst of spawns stays within maxLeasesPerConnection', () => withPool(async (pool) => {
    const channels = await Promise.all(Array.from({ length: 12 }, (_, i) => pool.spawn(`echo s${i}`)));
    const outputs = await Promise.all(channels.map(async (channel) => {
      const out = sink();
      await pipeline(channel, out);
      return Buffer.concat(out.chunks).toString();
    }));
    expect(outputs).toEqual(Array.from({ length: 12 }, (_, i) => `s${i}\n`));
    expect(server.maxConcurrentSessionsSeen).toBeLessThanOrEqual(10);
    await waitFor(() => pool.stats().leases === 0, 'the leases to end');
  }));

  it('timeoutMs destroys the channel with SshError TIMEOUT and ends the lease; the connection is reused', () => withPool(async (pool) => {
    await pool.exec('echo warm');
    const channel = await pool.spawn('echo-sleep 5 started', { timeoutMs: 300 });
    const chunks: Buffer[] = [];
    channel.on('data', (chunk: Buffer) => chunks.push(chunk));
    const error = await rejection(once(channel, 'close'));
    expect(isSshError(error, 'TIMEOUT')).toBe(true);
    expect((error as Error).message).not.toContain('echo-sleep');
    expect(Buffer.concat(chunks).toString()).toBe('started\n');
    await waitFor(() => pool.stats().leases === 0, 'the lease to end');
    expect(pool.stats()).toMatchObject({ created: 1, destroyed: 0 });
    expect(await pool.exec('echo after')).toMatchObject({ stdout: 'after\n' });
  }));

  it('a timed-out channel nobody listens to does not crash the process and still ends its lease', () => withPool(async (pool) => {
    await pool.spawn('sleep 5', { timeoutMs: 100 });
    await waitFor(() => pool.stats().leases === 0, 'the lease to end');
  }));

  it('signal: rejects ABORTED before the channel opened, destroys it with ABORTED after', () => withPool(async (pool) => {
    const early = await rejection(pool.spawn('echo x', { signal: AbortSignal.abort(new Error('no')) }));
    expect(isPoolError(early, 'ABORTED')).toBe(true);
    const controller = new AbortController();
    const channel = await pool.spawn('sleep 5', { signal: controller.signal });
    const failed = pipeline(channel, sink()).catch((caught: unknown) => caught);
    controller.abort(new Error('user gave up'));
    const late = await failed;
    expect(isPoolError(late, 'ABORTED')).toBe(true);
    expect(((late as Error).cause as Error).message).toBe('user gave up');
    await waitFor(() => pool.stats().leases === 0, 'the lease to end');
    expect(pool.stats().leases).toBe(0);
  }));

  it('destroy() before the command ends, output unread, closes the channel and ends the lease', () => withPool(async (pool) => {
    const channel = await pool.spawn('bytes 3000000');
    await sleep(100); // stdout fills the stream's buffer; nobody reads it
    channel.destroy();
    // Within the close grace: the server confirmed the close, the connection is kept.
    await waitFor(() => pool.stats().leases === 0, 'the lease to end', 1_500);
    expect(pool.stats()).toMatchObject({ created: 1, destroyed: 0 });
    expect(await pool.exec('echo still fine')).toMatchObject({ code: 0 });
  }));

  it('a failing destination in pipeline() ends the lease (pipeline destroys the channel)', () => withPool(async (pool) => {
    const channel = await pool.spawn('bytes 3000000');
    const broken = new Writable({ write(_chunk, _encoding, done) { done(new Error('disk full')); } });
    const error = await rejection(pipeline(channel, broken));
    expect((error as Error).message).toBe('disk full');
    await waitFor(() => pool.stats().leases === 0, 'the lease to end');
  }));

  it('a lost connection destroys the channel with CONNECTION_LOST, not a silent end of output', async () => {
    const own = await startSshServer();
    try {
      await withPool(async (pool) => {
        const channel = await pool.spawn('echo-sleep 5 before loss');
        const out = sink();
        const reading = pipeline(channel, out).catch((caught: unknown) => caught);
        await waitFor(() => Buffer.concat(out.chunks).toString() === 'before loss\n', 'the first output');
        await own.stop();
        const error = await reading;
        expect(isSshError(error, 'CONNECTION_LOST')).toBe(true);
        await waitFor(() => pool.stats().leases === 0, 'the lease to end');
        await waitFor(() => pool.stats().destroyed === 1, 'the connection to be destroyed');
      }, own);
    } finally {
      await own.close();
    }
  });

  it('retries a refused channel on a new lease, as exec does', async () => {
    const small = await startSshServer({ maxSessions: 2 });
    try {
      await withPool(async (pool) => {
        await pool.exec('echo warm');
        const channels = await Promise.all(Array.from({ length: 6 }, () => pool.spawn('sleep 0.2')));
        await Promise.all(channels.map((channel) => pipeline(channel, sink())));
        expect(small.maxConcurrentSessionsSeen).toBeLessThanOrEqual(2);
        await waitFor(() => pool.stats().leases === 0, 'the leases to end');
      }, small);
    } finally {
      await small.close();
    }
  });
});
