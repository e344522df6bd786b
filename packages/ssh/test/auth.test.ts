import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSshPool, isPoolError, isSshError, type SshNode, type SshPoolOptions } from '@pool/ssh';
import { generateSshKeyPair, startSshServer, type SshTestServer } from '@pool/testkit/ssh';
import { errorText, eventsText, recordEvents, rejection, waitFor } from './support.js';

const PASSWORD = 'pw-SECRET-5b1f9c2e';
const PASSPHRASE = 'pp-SECRET-77d0aa41';
const encryptedKey = generateSshKeyPair({ passphrase: PASSPHRASE });
let server: SshTestServer;
beforeAll(async () => { server = await startSshServer({ password: PASSWORD, authorizedKeys: [encryptedKey.public] }); });
afterAll(async () => { await server.close(); });

function node(extra: Partial<SshNode> = {}): SshNode {
  return { id: 'a', host: server.host, port: server.port, hostKeys: [server.hostKey.fingerprint], ...extra };
}

function options(extra: Partial<SshPoolOptions>): SshPoolOptions {
  return {
    nodes: [node()],
    username: server.username,
    knownHostsFile: false,
    createRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    ...extra,
  };
}

describe('authentication', () => {
  it('logs in with a password, a private key, or an encrypted key and its passphrase', async () => {
    for (const auth of [
      { password: PASSWORD },
      { privateKey: server.clientKey.private },
      { privateKey: Buffer.from(encryptedKey.private), passphrase: PASSPHRASE },
    ]) {
      const pool = createSshPool(options(auth));
      try {
        expect(await pool.exec('echo in')).toMatchObject({ stdout: 'in\n' });
      } finally {
        await pool.close();
      }
    }
  });

  it('lets a node override the pool-level credentials', async () => {
    const pool = createSshPool(options({ password: 'wrong', nodes: [node({ password: PASSWORD })] }));
    try {
      expect(await pool.exec('echo node-auth')).toMatchObject({ code: 0 });
    } finally {
      await pool.close();
    }
  });

  it('fails a wrong password with CREATE_FAILED caused by AUTH_FAILED', async () => {
    const pool = createSshPool(options({ password: 'not-the-password' }));
    try {
      const error = await rejection(pool.exec('echo x'));
      expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
      expect(isSshError((error as Error).cause, 'AUTH_FAILED')).toBe(true);
      expect((error as Error).message).toMatch(/authentication as "pool".*failed.*password/);
      expect(errorText(error)).not.toContain('not-the-password');
      expect(pool.stats()).toMatchObject({ total: 0, leases: 0, createFailures: 1 });
    } finally {
      await pool.close();
    }
  });

  it('logs in through a real ssh-agent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pool-agent-'));
    const socketPath = join(dir, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', socketPath], { stdio: 'ignore' });
    try {
      const keyFile = join(dir, 'id');
      writeFileSync(keyFile, server.clientKey.private, { mode: 0o600 });
      // ssh-add fails until the agent listens on its socket.
      const addKey = () => {
        try {
          execFileSync('ssh-add', [keyFile], { env: { ...process.env, SSH_AUTH_SOCK: socketPath }, stdio: 'ignore' });
          return true;
        } catch {
          return false;
        }
      };
      await waitFor(addKey, 'ssh-add to load the key into ssh-agent');
      const pool = createSshPool(options({ agent: socketPath }));
      try {
        expect(await pool.exec('echo agent')).toMatchObject({ stdout: 'agent\n' });
      } finally {
        await pool.close();
      }
    } finally {
      agent.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never puts a password, passphrase or key in errors, stats, health or events', async () => {
    const secretsOf = [PASSWORD, PASSPHRASE, encryptedKey.private.split('\n')[1] ?? 'x', server.clientKey.private.split('\n')[1] ?? 'x'];
    const texts: string[] = [];
    const failing: Partial<SshPoolOptions>[] = [
      { password: `${PASSWORD}-wrong` },
      { privateKey: encryptedKey.private, passphrase: PASSPHRASE, nodes: [node({ hostKeys: [generateSshKeyPair().fingerprint] })] },
      { password: PASSWORD, nodes: [node({ port: 1 })] },
    ];
    for (const extra of failing) {
      const pool = createSshPool(options(extra));
      const events = recordEvents(pool);
      try {
        texts.push(errorText(await rejection(pool.exec('echo x'))));
        texts.push(JSON.stringify(pool.stats()), JSON.stringify(await pool.health()), eventsText(events));
      } finally {
        await pool.close();
      }
      texts.push(eventsText(events));
    }
    // A bad passphrase is refused up front, without echoing the key or the passphrase.
    texts.push(errorText((() => {
      try {
        createSshPool(options({ privateKey: encryptedKey.private, passphrase: `${PASSPHRASE}-bad` }));
      } catch (error) {
        return error;
      }
      throw new Error('expected INVALID_OPTIONS');
    })()));
    const all = texts.join('\n');
    expect(all).toContain('AUTH_FAILED');
    expect(all).toContain('HOST_KEY_MISMATCH');
    expect(all).toContain('INVALID_OPTIONS');
    for (const secret of secretsOf) expect(all).not.toContain(secret);
    expect(all).not.toContain('SECRET');
  });
});
