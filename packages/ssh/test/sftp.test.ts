import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSshPool, isSshError, type SshPool } from '@pool/ssh';
import { startSshServer, type SshTestServer } from '@pool/testkit/ssh';
import { rejection, sftpFiles, waitFor } from './support.js';

let server: SshTestServer;
let pool: SshPool;
beforeAll(async () => {
  server = await startSshServer();
  pool = createSshPool({
    nodes: [{ id: 'a', host: server.host, port: server.port, hostKeys: [server.hostKey.fingerprint] }],
    username: server.username,
    privateKey: server.clientKey.private,
    knownHostsFile: false,
  });
});
afterAll(async () => {
  await pool.close();
  await server.close();
});

describe('sftp', () => {
  it('round-trips a file through the server, in both directions', async () => {
    const payload = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
    await pool.sftp(async (sftp) => {
      const files = sftpFiles(sftp);
      await files.writeFile('/upload.bin', payload);
      expect((await files.readFile('/upload.bin')).equals(payload)).toBe(true);
      expect((await files.readdir('/')).map((entry) => entry.filename)).toContain('upload.bin');
    });
    expect(readFileSync(join(server.sftpRoot, 'upload.bin')).equals(payload)).toBe(true);
    writeFileSync(join(server.sftpRoot, 'download.txt'), 'from the server\n');
    const text = await pool.sftp(async (sftp) => (await sftpFiles(sftp).readFile('/download.txt')).toString());
    expect(text).toBe('from the server\n');
    expect(pool.stats().leases).toBe(0);
  });

  it('shares a connection with execs running at the same time', async () => {
    const [listing, echo] = await Promise.all([
      pool.sftp(async (sftp) => (await sftpFiles(sftp).readdir('/')).length),
      pool.exec('echo side by side'),
    ]);
    expect(listing).toBeGreaterThan(0);
    expect(echo.stdout).toBe('side by side\n');
    expect(pool.stats().created).toBe(1);
  });

  it('rethrows what fn throws and closes the channel', async () => {
    const error = await rejection(pool.sftp(async (sftp) => {
      await sftpFiles(sftp).readFile('/missing.txt');
    }));
    expect((error as { code?: unknown }).code).toBe(2); // SFTP NO_SUCH_FILE
    expect(pool.stats().leases).toBe(0);
  });

  it('rejects TIMEOUT when fn outlives timeoutMs, with the channel closed', async () => {
    const error = await rejection(pool.sftp(() => new Promise(() => {}), { timeoutMs: 150 }));
    expect(isSshError(error, 'TIMEOUT')).toBe(true);
    await waitFor(() => pool.stats().leases === 0, 'the lease to end');
    expect(await pool.sftp(async (sftp) => (await sftpFiles(sftp).readdir('/')).length)).toBeGreaterThan(0);
  });
});
