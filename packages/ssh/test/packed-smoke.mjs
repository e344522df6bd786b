// Run by scripts/check-packages.mjs inside a fresh npm project holding the packed @pool/ssh and
// the OLDEST ssh2 its peer range admits (the workspace tests run the newest): exec and SFTP
// against an ssh2 server in this process (the workspace's ssh2), from both import and require.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// Not every version exports ./package.json: read it next to the resolved entry.
const installedVersion = (name) => {
  let dir = require.resolve(name);
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) dir = dirname(dir);
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
};
const { startSshServer } = await import(join(process.env.POOL_TESTKIT_DIST, 'ssh.js'));
const { createSshPool, isPoolError } = require('@pool/ssh');
const imported = await import('@pool/ssh');
assert.equal(imported.createSshPool, createSshPool);

const server = await startSshServer();
try {
  const pool = createSshPool({
    nodes: [{ id: 'a', host: server.host, port: server.port, hostKeys: [server.hostKey.fingerprint] }],
    username: server.username,
    password: server.password,
  });
  const result = await pool.exec('echo hello');
  assert.equal(result.code, 0);
  assert.equal(result.stdout.trim(), 'hello');
  const many = await Promise.all(Array.from({ length: 5 }, (_, i) => pool.exec(`echo ${i}`)));
  assert.deepEqual(many.map((r) => r.stdout.trim()), ['0', '1', '2', '3', '4']);
  const listed = await pool.sftp((sftp) => new Promise((resolve, reject) => sftp.readdir('.', (error, list) => (error ? reject(error) : resolve(list)))));
  assert.ok(Array.isArray(listed));
  await pool.close();
  await assert.rejects(pool.exec('echo late'), (error) => isPoolError(error, 'POOL_CLOSED'));
  console.log(`ssh2 ${installedVersion('ssh2')}: exec, multiplexed exec and sftp work`);
} finally {
  await server.close();
}
