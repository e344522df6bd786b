import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSshPool, isPoolError, isSshError, parseKnownHosts, type SshPoolOptions } from '@pool/ssh';
import { generateSshKeyPair, knownHostsLine, startSshServer, type SshTestServer } from '@pool/testkit/ssh';

let server: SshTestServer;
let dir: string;
beforeAll(async () => {
  server = await startSshServer();
  dir = mkdtempSync(join(tmpdir(), 'pool-ssh-known-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Connects once with `extra` host key settings; returns the exec result or the error. */
async function tryConnect(extra: Partial<SshPoolOptions>, nodeExtra: { hostKeys?: string[] } = {}): Promise<unknown> {
  const pool = createSshPool({
    nodes: [{ id: 'a', host: server.host, port: server.port, ...nodeExtra }],
    username: server.username,
    password: server.password,
    createRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    ...extra,
  });
  try {
    return await pool.exec('echo ok');
  } catch (error) {
    return error;
  } finally {
    await pool.close();
  }
}

const otherKey = generateSshKeyPair();

describe('host key verification', () => {
  it('accepts the pinned SHA256 fingerprint or public key line', async () => {
    expect(await tryConnect({ knownHostsFile: false }, { hostKeys: [server.hostKey.fingerprint] })).toMatchObject({ stdout: 'ok\n' });
    expect(await tryConnect({ knownHostsFile: false }, { hostKeys: [otherKey.fingerprint, server.hostKey.public] }))
      .toMatchObject({ stdout: 'ok\n' });
  });

  it('refuses a changed key: CREATE_FAILED caused by HOST_KEY_MISMATCH naming host and presented fingerprint', async () => {
    const error = await tryConnect({ knownHostsFile: false }, { hostKeys: [otherKey.fingerprint] });
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    const cause = (error as Error).cause;
    expect(isSshError(cause, 'HOST_KEY_MISMATCH')).toBe(true);
    const message = (cause as Error).message;
    expect(message).toContain(`${server.host}:${server.port}`);
    expect(message).toContain(`ssh-ed25519 ${server.hostKey.fingerprint}`);
    expect(message).toMatch(/intercepting/);
    expect((error as Error).message).toContain('HOST KEY MISMATCH');
  });

  it('refuses an unknown key when nothing is known for the host', async () => {
    const emptyFile = join(dir, 'empty_known_hosts');
    writeFileSync(emptyFile, `${knownHostsLine('other.example', 22, otherKey.public)}\n`);
    const error = await tryConnect({ knownHostsFile: emptyFile });
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    expect(isSshError((error as Error).cause, 'HOST_KEY_UNKNOWN')).toBe(true);
    expect(((error as Error).cause as Error).message).toContain(emptyFile);
    expect(((error as Error).cause as Error).message).toContain(server.hostKey.fingerprint);
  });

  it('refuses when no host key source is configured and ~/.ssh/known_hosts lacks the host', async () => {
    const error = await tryConnect({});
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    expect(isSshError((error as Error).cause, 'HOST_KEY_UNKNOWN')).toBe(true);
  });

  it('accepts a host from a known_hosts file ([host]:port form) and from inline knownHosts', async () => {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `# comment\n${knownHostsLine('elsewhere', 22, otherKey.public)}\n${server.knownHostsLine} comment\n`);
    expect(await tryConnect({ knownHostsFile: file })).toMatchObject({ code: 0 });
    expect(await tryConnect({ knownHosts: server.knownHostsLine, knownHostsFile: false })).toMatchObject({ code: 0 });
  });

  it('accepts hashed known_hosts entries written by ssh-keygen -H', async () => {
    const file = join(dir, 'hashed_known_hosts');
    writeFileSync(file, `${server.knownHostsLine}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
    expect(await tryConnect({ knownHostsFile: file })).toMatchObject({ code: 0 });
  });

  it('matches wildcard patterns and honours negation', async () => {
    const [type, key] = server.hostKey.public.split(' ');
    const wildcard = `other.example,[127.0.0.?]:${server.port} ${type} ${key}`;
    expect(await tryConnect({ knownHosts: wildcard, knownHostsFile: false })).toMatchObject({ code: 0 });
    const negated = `[127.0.0.*]:*,![${server.host}]:${server.port} ${type} ${key}`;
    const error = await tryConnect({ knownHosts: negated, knownHostsFile: false });
    expect(isSshError((error as Error).cause, 'HOST_KEY_UNKNOWN')).toBe(true);
  });

  it('refuses a key marked @revoked even when also pinned', async () => {
    const error = await tryConnect(
      { knownHosts: `@revoked ${server.knownHostsLine}`, knownHostsFile: false },
      { hostKeys: [server.hostKey.fingerprint] },
    );
    expect(isSshError((error as Error).cause, 'HOST_KEY_REVOKED')).toBe(true);
  });

  it('treats a known_hosts entry for the same host with another key as a mismatch', async () => {
    const error = await tryConnect({ knownHosts: knownHostsLine(server.host, server.port, otherKey.public), knownHostsFile: false });
    expect(isSshError((error as Error).cause, 'HOST_KEY_MISMATCH')).toBe(true);
  });

  it('skips verification only with acceptUnknownHostKeys_INSECURE', async () => {
    expect(await tryConnect({ acceptUnknownHostKeys_INSECURE: true, knownHostsFile: false })).toMatchObject({ code: 0 });
  });
});

describe('parseKnownHosts', () => {
  it('parses markers, patterns and skips malformed or certificate lines', () => {
    const key = otherKey.public.split(' ').slice(0, 2).join(' ');
    const entries = parseKnownHosts([
      `a.example,b.example ${key}`,
      `@revoked [c.example]:2222 ${key}`,
      `@cert-authority *.example ${key}`,
      'garbage',
      `d.example ssh-rsa ${key.split(' ')[1] ?? ''}`,
    ].join('\n'));
    expect(entries.map((entry) => [entry.marker, entry.hosts])).toEqual([
      [undefined, 'a.example,b.example'],
      ['revoked', '[c.example]:2222'],
    ]);
  });
});
