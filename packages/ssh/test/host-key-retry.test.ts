import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSshPool, isPoolError, isSshError } from '@pool/ssh';
import { generateSshKeyPair, knownHostsLine, startSshServer, type SshTestServer } from '@pool/testkit/ssh';

let server: SshTestServer;
let dir: string;
beforeAll(async () => {
  server = await startSshServer();
  dir = mkdtempSync(join(tmpdir(), 'pool-ssh-refusal-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a refused host key is not retried', () => {
  it('a host-key refusal is not retried: one create, one connection, CREATE_FAILED without the backoff', async () => {
    const file = join(dir, 'known_hosts_other');
    writeFileSync(file, knownHostsLine(server.host, server.port, generateSshKeyPair().public));
    const pool = createSshPool({
      nodes: [{ id: 'a', host: server.host, port: server.port }],
      knownHostsFile: file,
      username: server.username,
      password: server.password,
      createRetry: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 1_000 },
    });
    const before = server.connectionsAccepted;
    const errors: unknown[] = [];
    pool.on('createError', ({ error }) => errors.push(error));
    const error = await pool.exec('echo ok').catch((caught: unknown) => caught);
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    expect(isSshError((error as Error).cause, 'HOST_KEY_MISMATCH')).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors.every((each) => isSshError(each, 'HOST_KEY_MISMATCH'))).toBe(true);
    expect(server.connectionsAccepted - before).toBe(1);
    await pool.close();
  });

  it('a known_hosts file fixed right after a refusal is used by the next create', async () => {
    const file = join(dir, 'known_hosts_fixed');
    writeFileSync(file, knownHostsLine(server.host, server.port, generateSshKeyPair().public));
    const pool = createSshPool({
      nodes: [{ id: 'a', host: server.host, port: server.port }],
      knownHostsFile: file,
      username: server.username,
      password: server.password,
      createRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    expect(isPoolError(await pool.exec('echo ok').catch((caught: unknown) => caught), 'CREATE_FAILED')).toBe(true);
    writeFileSync(file, server.knownHostsLine);
    const result = await pool.exec('echo ok');
    expect(result.stdout).toBe('ok\n');
    await pool.close();
  });
});
