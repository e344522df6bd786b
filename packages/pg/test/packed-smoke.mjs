// Run by scripts/check-packages.mjs inside a fresh npm project holding the packed @pool/pg and
// the OLDEST pg its peer range admits (the workspace tests run the newest): a real PostgreSQL,
// the pool, a transaction and the pg.Pool facade, from both import and require.
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
const { startPostgresServer } = await import(join(process.env.POOL_TESTKIT_DIST, 'pg.js'));
const pg = require('pg');
const { createPgPool, isPoolError } = await import('@pool/pg');
const { Pool } = require('@pool/pg/compat');

const server = await startPostgresServer();
try {
  const pool = createPgPool({ connectionString: server.connectionString, maxPerNode: 2 });
  const { rows } = await pool.query('SELECT $1::int + 1 AS n', [41]);
  assert.equal(rows[0].n, 42);
  const inside = await pool.transaction(async (client) => {
    // The peer dependency is the user's own pg: one copy, so instanceof holds.
    assert.ok(client instanceof pg.Client, 'the pooled client is an instance of the installed pg.Client');
    return (await client.query('SELECT txid_current() AS id')).rows.length;
  });
  assert.equal(inside, 1);
  await pool.close();
  await assert.rejects(pool.query('SELECT 1'), (error) => isPoolError(error, 'POOL_CLOSED'));

  const compat = new Pool({ connectionString: server.connectionString, max: 2 });
  const result = await compat.query('SELECT 1 AS one');
  assert.equal(result.rows[0].one, 1);
  await compat.end();
  console.log(`pg ${installedVersion('pg')}: query, transaction and the pg.Pool facade work`);
} finally {
  await server.stop();
}
