import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPoolError, isSshError, type SshPool } from '@pool/ssh';
import { startSshServer, type SshTestServer } from '@pool/testkit/ssh';
import { errorText, passwordPool, rejection, waitFor } from './support.js';

let server: SshTestServer;
beforeAll(async () => { server = await startSshServer(); });
afterAll(async () => { await server.close(); });

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

async function withPool(run: (pool: SshPool) => Promise<void>): Promise<void> {
  const pool = passwordPool(server);
  try {
    await run(pool);
  } finally {
    await pool.close();
  }
}

describe('exec output encodings', () => {
  it("encoding: 'buffer' returns stdout and stderr as Buffers, byte for byte", () => withPool(async (pool) => {
    const result = await pool.exec('bytes 256', { encoding: 'buffer' });
    expect(Buffer.isBuffer(result.stdout)).toBe(true);
    expect(result.stdout.equals(allBytes)).toBe(true);
    expect(Buffer.isBuffer(result.stderr)).toBe(true);
    expect(result.stderr.length).toBe(0);
    expect(result).toMatchObject({ code: 0, signal: null });
    // 200 kB of binary across many SSH packets and window adjusts.
    const large = await pool.exec('bytes 200000', { encoding: 'buffer' });
    expect(large.stdout.length).toBe(200_000);
    expect(large.stdout.subarray(256, 512).equals(allBytes)).toBe(true);
    const piped = await pool.exec('cat', { stdin: allBytes, encoding: 'buffer' });
    expect(piped.stdout.equals(allBytes)).toBe(true);
  }));

  it('decodes UTF-8 by default (binary turns into U+FFFD) and with any other Buffer encoding asked', () => withPool(async (pool) => {
    const utf8 = await pool.exec('bytes 256');
    expect(typeof utf8.stdout).toBe('string');
    expect(utf8.stdout).toContain('\uFFFD');
    expect((await pool.exec('bytes 256', { encoding: 'latin1' })).stdout).toBe(allBytes.toString('latin1'));
    expect((await pool.exec('bytes 256', { encoding: 'base64' })).stdout).toBe(allBytes.toString('base64'));
    expect((await pool.exec('echo-stderr héllo', { encoding: 'hex' })).stderr).toBe(Buffer.from('héllo\n').toString('hex'));
  }));

  it('refuses an unknown encoding with INVALID_OPTIONS naming it, before taking a connection', () => withPool(async (pool) => {
    const error = await rejection(pool.exec('echo x', { encoding: 'utf-9' as BufferEncoding }));
    expect(isPoolError(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toMatch(/^Invalid option encoding: got "utf-9", must be 'buffer' or a Buffer encoding/);
    expect(pool.stats().acquired).toBe(0);
  }));
});

describe('a failed exec carries the output read so far', () => {
  it('TIMEOUT has error.stdout / error.stderr, not enumerable so loggers leave them out', () => withPool(async (pool) => {
    const error = await rejection(pool.exec('echo-sleep 5 partial output', { timeoutMs: 300 }));
    expect(isSshError(error, 'TIMEOUT')).toBe(true);
    const failed = error as Error & { stdout?: unknown; stderr?: unknown };
    expect(failed.stdout).toBe('partial output\n');
    expect(failed.stderr).toBe('err partial output\n');
    expect(Object.keys(failed)).not.toContain('stdout');
    expect(JSON.stringify(failed)).not.toContain('partial');
    expect(errorText(failed)).not.toContain('partial output');
    await waitFor(() => pool.stats().leases === 0, 'the lease to end');
  }));

  it('in the encoding asked for', () => withPool(async (pool) => {
    const error = await rejection(pool.exec('echo-sleep 5 bin', { timeoutMs: 300, encoding: 'buffer' }));
    expect(isSshError(error, 'TIMEOUT')).toBe(true);
    expect((error as { stdout?: Buffer }).stdout?.equals(Buffer.from('bin\n'))).toBe(true);
    expect((error as { stderr?: Buffer }).stderr?.equals(Buffer.from('err bin\n'))).toBe(true);
  }));

  it('ABORTED (signal) carries it too, once the command ran', () => withPool(async (pool) => {
    const controller = new AbortController();
    const running = pool.exec('echo-sleep 5 before abort', { signal: controller.signal });
    await waitFor(() => pool.stats().leases === 1, 'the command to start');
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort(new Error('enough'));
    const error = await rejection(running);
    expect(isPoolError(error, 'ABORTED')).toBe(true);
    expect((error as { stdout?: string }).stdout).toBe('before abort\n');
  }));

  it('OUTPUT_TOO_LARGE keeps exactly maxOutputBytes of it', () => withPool(async (pool) => {
    const error = await rejection(pool.exec('bytes 100000', { maxOutputBytes: 1_000, encoding: 'buffer' }));
    expect(isSshError(error, 'OUTPUT_TOO_LARGE')).toBe(true);
    const stdout = (error as { stdout?: Buffer }).stdout;
    expect(stdout?.length).toBe(1_000);
    expect(stdout?.subarray(0, 256).equals(allBytes)).toBe(true);
    await waitFor(() => pool.stats().leases === 0, 'the lease to end');
  }));
});
