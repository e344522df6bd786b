import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSshPool, isPoolError, isSshError, type SshPool, type SshPoolOptions } from '@pool/ssh';
import { generateSshKeyPair } from '@pool/testkit/ssh';
import { startOpenSshServer, type OpenSshServer } from '@pool/testkit/sshd';
import { rejection, sftpFiles, sleep, waitFor } from './support.js';

// A real OpenSSH sshd (apt-get install openssh-server; .ci/run does). Without it these tests
// fail in beforeAll with the install hint: they never skip.
let sshd: OpenSshServer;
beforeAll(async () => { sshd = await startOpenSshServer(); });
afterAll(async () => { await sshd?.close(); });

function makePool(extra: Partial<SshPoolOptions> = {}): SshPool {
  return createSshPool({
    nodes: [{ id: 'sshd', host: sshd.host, port: sshd.port }],
    username: sshd.username,
    privateKey: sshd.clientKey.private,
    knownHosts: sshd.knownHostsLine,
    knownHostsFile: false,
    createTimeoutMs: 5_000,
    acquireTimeoutMs: 10_000,
    ...extra,
  });
}

/** Pids of processes whose command line is exactly `argv`. */
function processesRunning(argv: string[]): number[] {
  const wanted = `${argv.join('\0')}\0`;
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === wanted; } catch { return false; }
  }).map(Number);
}

describe('against OpenSSH sshd', () => {
  it('runs commands through the shell with output, exit codes and stdin', async () => {
    const pool = makePool();
    try {
      expect(await pool.exec('echo hello; echo oops >&2; exit 7')).toEqual({ stdout: 'hello\n', stderr: 'oops\n', code: 7, signal: null });
      expect(await pool.exec('cat', { stdin: 'over ssh\n' })).toMatchObject({ stdout: 'over ssh\n', code: 0 });
      expect(await pool.exec('kill -TERM $$')).toMatchObject({ code: null, signal: 'SIGTERM' });
    } finally {
      await pool.close();
    }
  });

  it('runs 50 concurrent execs over a few connections within MaxSessions', async () => {
    const pool = makePool({ maxPerNode: 5 });
    try {
      const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => pool.exec(`echo n${i}`)));
      results.forEach((result, i) => expect(result).toMatchObject({ status: 'fulfilled', value: { stdout: `n${i}\n`, code: 0 } }));
      expect(pool.stats().created).toBeLessThanOrEqual(5);
      expect(pool.stats().leases).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('keeps 10 channels a connection under churn: a refusal while sshd still counts closed sessions is retried, not learned', async () => {
    // sshd frees a session a loop turn after it read our close, so an open right behind a close
    // can be refused below MaxSessions (10). 20 callers x 200 instant commands make that happen.
    const pool = makePool();
    try {
      let started = 0;
      const failures: unknown[] = [];
      await Promise.all(Array.from({ length: 20 }, async () => {
        while (started < 200) {
          started++;
          await pool.exec('echo churn').catch((error: unknown) => failures.push(error));
        }
      }));
      expect(failures).toEqual([]);
      // 20 at a time over 10 channels each: 2 connections (3 leaves a margin); taking the lag for
      // the limit made 4 to 9, and lowered the node's cap a little more on every retirement.
      expect(pool.stats().created).toBeLessThanOrEqual(3);
      expect(pool.stats().destroyed).toBe(0); // no connection retired for a limit it never hit
      expect(pool.stats().acquired).toBeGreaterThanOrEqual(200);
    } finally {
      await pool.close();
    }
  });

  it('on timeout rejects at timeoutMs; a channel sshd will not close retires its connection', async () => {
    const pool = makePool({ maxPerNode: 1 });
    const argv = ['sleep', '31.25'];
    try {
      await pool.exec('echo warm');
      const running = Promise.allSettled(Array.from({ length: 3 }, () => pool.exec(argv.join(' '), { timeoutMs: 1_000 })));
      await waitFor(() => processesRunning(argv).length === 3, 'three remote sleeps to start');
      const outcomes = await running;
      expect(outcomes.every((outcome) => outcome.status === 'rejected' && isSshError(outcome.reason, 'TIMEOUT'))).toBe(true);
      // The calls rejected at timeoutMs, without waiting for sshd: the leases still wait for the close.
      expect(pool.stats().leases).toBe(3);
      // sshd confirms a command channel's close only when the command exits, and delivers the
      // KILL only to privilege-separated (non-root) sessions: as root the sleeps live on, so after
      // the grace the connection is retired rather than reused with slots the server still holds.
      await waitFor(() => pool.stats().leases === 0, 'the leases to end after the close grace');
      // Destroying it (ending the SSH connection) settles a moment after its last lease ends.
      await waitFor(() => pool.stats().destroyed === 1, 'the retired connection to be destroyed');
      expect(pool.stats().destroyed).toBe(1);
      expect(await pool.exec('echo fresh connection')).toMatchObject({ code: 0 });
      expect(pool.stats().created).toBe(2);
    } finally {
      await pool.close();
      for (const pid of processesRunning(argv)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  });

  it('on timeout of a command that dies with its channel, keeps the connection', async () => {
    const pool = makePool({ maxPerNode: 1 });
    try {
      await pool.exec('echo warm');
      // Once the channel is closed sshd closes the command's stdout: the next echo gets SIGPIPE.
      const error = await rejection(pool.exec('while true; do echo tick; sleep 0.1; done', { timeoutMs: 500 }));
      expect(isSshError(error, 'TIMEOUT')).toBe(true);
      await waitFor(() => pool.stats().leases === 0, 'the lease to end', 1_900);
      expect(pool.stats()).toMatchObject({ destroyed: 0, created: 1 });
      expect(await pool.exec('echo same connection')).toMatchObject({ code: 0 });
      expect(pool.stats().created).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('refuses a wrong host key with CREATE_FAILED / HOST_KEY_MISMATCH', async () => {
    const pool = createSshPool({
      nodes: [{ id: 'sshd', host: sshd.host, port: sshd.port, hostKeys: [generateSshKeyPair().fingerprint] }],
      username: sshd.username,
      privateKey: sshd.clientKey.private,
      knownHostsFile: false,
      createRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    try {
      const error = await rejection(pool.exec('echo x'));
      expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
      expect(isSshError((error as Error).cause, 'HOST_KEY_MISMATCH')).toBe(true);
      expect((error as Error).message).toContain(sshd.hostKey.fingerprint);
    } finally {
      await pool.close();
    }
  });

  it('refuses a wrong password with CREATE_FAILED / AUTH_FAILED', async () => {
    const pool = createSshPool({
      nodes: [{ id: 'sshd', host: sshd.host, port: sshd.port }],
      username: sshd.username,
      password: 'certainly-wrong',
      knownHosts: sshd.knownHostsLine,
      knownHostsFile: false,
      createRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    try {
      const error = await rejection(pool.exec('echo x'));
      expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
      expect(isSshError((error as Error).cause, 'AUTH_FAILED')).toBe(true);
      expect((error as Error).message).not.toContain('certainly-wrong');
    } finally {
      await pool.close();
    }
  });

  it('round-trips a file over SFTP', async () => {
    const pool = makePool();
    const path = join(sshd.dataDir, 'sftp-roundtrip.bin');
    const payload = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256));
    try {
      const back = await pool.sftp(async (sftp) => {
        const files = sftpFiles(sftp);
        await files.writeFile(path, payload);
        return files.readFile(path);
      });
      expect(back.equals(payload)).toBe(true);
      expect(readFileSync(path).equals(payload)).toBe(true);
      writeFileSync(join(sshd.dataDir, 'hello.txt'), 'hi\n');
      expect(await pool.exec(`cat ${join(sshd.dataDir, 'hello.txt')}`)).toMatchObject({ stdout: 'hi\n' });
    } finally {
      await pool.close();
    }
  });

  it('recovers from an sshd restart mid-load', async () => {
    const pool = makePool({ maxPerNode: 3, circuitBreaker: false, createRetry: { attempts: 10, baseDelayMs: 50, maxDelayMs: 300 } });
    const outcomes: string[] = [];
    let restarted = false;
    let cutOff: string | undefined;
    const worker = async (id: number) => {
      for (let i = 0; i < 8; i++) {
        try {
          const result = await pool.exec(`echo ${id}; sleep 0.05`, { timeoutMs: 5_000 });
          outcomes.push(result.code === 0 ? 'ok' : `exit ${result.code}`);
        } catch (error) {
          outcomes.push(isSshError(error) || isPoolError(error) ? error.code : `unexpected ${String(error)}`);
        }
        if (id === 0 && i === 2) {
          // One command surely running when sshd goes: it must fail, the rest may or may not.
          const running = pool.exec('sleep 7.5', { timeoutMs: 10_000 }).then(
            (result) => `exit ${result.code}`,
            (error: unknown) => (isSshError(error) || isPoolError(error) ? error.code : `unexpected ${String(error)}`),
          );
          await waitFor(() => processesRunning(['sleep', '7.5']).length === 1, 'the long command to run');
          restarted = true;
          await sshd.stop();
          await sleep(200);
          await sshd.start();
          cutOff = await running;
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: 8 }, (_, id) => worker(id)));
      expect(restarted).toBe(true);
      expect(outcomes).toHaveLength(64);
      // A session whose process sshd lost before the connection reports no exit status at all.
      const cutOffOutcomes = ['CONNECTION_LOST', 'CHANNEL_FAILED', 'CREATE_FAILED', 'exit null'];
      expect(cutOffOutcomes).toContain(cutOff);
      for (const failure of outcomes.filter((outcome) => outcome !== 'ok')) expect(cutOffOutcomes).toContain(failure);
      expect(await pool.exec('echo back')).toMatchObject({ stdout: 'back\n' });
    } finally {
      await pool.drain({ timeoutMs: 5_000 });
    }
    expect(pool.stats().created).toBe(pool.stats().destroyed);
  });
});
