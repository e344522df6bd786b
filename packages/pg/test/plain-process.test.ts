import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeNodeScript, freePort, readmeExample, runNodeScript, type NodeScriptResult } from '@pool/testkit';
import { startPostgresForFile } from './helpers.js';

/**
 * Plain `node script.mjs` processes against the built package (nothing but the script holds the
 * event loop, unlike vitest): every scenario must end on its own with exit 0, never 13
 * ("unsettled top-level await") and never a crash.
 */
const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const postgres = startPostgresForFile();

const connection = () => {
  const { host, port, user, password, database } = postgres.server;
  return JSON.stringify({ host, port, user, password, database });
};

async function run(source: string, options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<NodeScriptResult> {
  const result = await runNodeScript({ source, cwd: packageDir, env: options.env ?? {}, timeoutMs: options.timeoutMs ?? 30_000 });
  expect(result.code, describeNodeScript(result)).toBe(0);
  expect(result.timedOut).toBe(false);
  return result;
}

const lines = (result: NodeScriptResult) => result.stdout.trim().split('\n');

describe('@pool/pg in a plain node process', () => {
  let blackhole: net.Server;
  let blackholePort: number;
  const held: net.Socket[] = [];
  let signals: string;

  beforeAll(async () => {
    // Accepts TCP connections and never answers: a server that hangs before the startup reply.
    blackhole = net.createServer((socket) => {
      held.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    blackholePort = (blackhole.address() as net.AddressInfo).port;
    signals = mkdtempSync(join(tmpdir(), 'pool-pg-signals-'));
  });

  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => blackhole.close(resolve));
    rmSync(signals, { recursive: true, force: true });
  });

  it('first query against a healthy server, then close: the process ends by itself', async () => {
    const result = await run(`
import { createPgPool } from '@pool/pg';
const pool = createPgPool(${connection()});
const { rows } = await pool.query('SELECT 40 + 2 AS answer');
console.log('answer', rows[0].answer);
await pool.close();
const s = pool.stats();
console.log('after close', s.created === s.destroyed);
`);
    expect(lines(result)).toEqual(['answer 42', 'after close true']);
  });

  it('without close(), idle connections keep the process alive until idleTimeoutMs closes them', async () => {
    const result = await run(`
import { createPgPool } from '@pool/pg';
const pool = createPgPool({ ...${connection()}, idleTimeoutMs: 1500 });
await pool.query('SELECT 1');
globalThis.queriedAt = Date.now();
process.on('exit', () => console.log('alive for', Date.now() - globalThis.queriedAt >= 1000));
`);
    expect(lines(result)).toEqual(['alive for true']);
    expect(result.durationMs).toBeLessThan(25_000);
  });

  it('a refused port rejects (CREATE_FAILED or NODE_UNAVAILABLE) instead of exiting 13', async () => {
    const port = await freePort();
    const result = await run(`
import { createPgPool } from '@pool/pg';
const pool = createPgPool({ host: '127.0.0.1', port: ${port}, user: 'x', password: 'x', createRetry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 100 } });
try { await pool.query('SELECT 1'); console.log('resolved'); } catch (e) { console.log('code', e.code); console.log('refused', /ECONNREFUSED/.test(String(e.message) + String(e.cause?.message ?? e.cause?.code))); }
await pool.close();
`);
    const [code, refused] = lines(result);
    expect(['code CREATE_FAILED', 'code NODE_UNAVAILABLE']).toContain(code);
    expect(refused).toBe('refused true');
  });

  it('a blackholed server: createTimeoutMs bounds each connect, the call rejects', async () => {
    const result = await run(`
import { createPgPool } from '@pool/pg';
const pool = createPgPool({ host: '127.0.0.1', port: ${blackholePort}, user: 'x', password: 'x', createTimeoutMs: 300, acquireTimeoutMs: 5000, createRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
const started = Date.now();
try { await pool.query('SELECT 1'); console.log('resolved'); } catch (e) { console.log('code', e.code); console.log('bounded', Date.now() - started < 4500); }
await pool.close();
`);
    const [code, bounded] = lines(result);
    expect(['code CREATE_FAILED', 'code ACQUIRE_TIMEOUT', 'code NODE_UNAVAILABLE']).toContain(code);
    expect(bounded).toBe('bounded true');
  });

  it('a held lease and timeoutMs: the second acquire gets ACQUIRE_TIMEOUT after timeoutMs', async () => {
    const result = await run(`
import { createPgPool } from '@pool/pg';
const pool = createPgPool({ ...${connection()}, maxPerNode: 1, acquireTimeoutMs: 10000 });
const lease = await pool.acquire();
const started = Date.now();
try { await pool.acquire({ timeoutMs: 500 }); console.log('resolved'); } catch (e) { console.log('code', e.code); console.log('waited about 500 ms', Date.now() - started >= 400 && Date.now() - started < 5000); }
await lease.release();
await pool.close();
`);
    expect(lines(result)).toEqual(['code ACQUIRE_TIMEOUT', 'waited about 500 ms true']);
  });

  it('a wrong password: the auth failure (28P01) reaches the caller, the password never appears', async () => {
    const wrong = `wrong-${postgres.server.password}-pw`;
    const result = await run(`
import { createPgPool } from '@pool/pg';
const pool = createPgPool({ ...${connection()}, password: ${JSON.stringify(wrong)}, createRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
pool.on('error', (e) => console.log('event', e.message));
try { await pool.query('SELECT 1'); console.log('resolved'); } catch (e) {
  console.log('code', e.code);
  console.log('sqlstate', e.cause?.code);
  console.log('message', e.message, e.cause?.message);
  console.log('stack', e.stack);
}
console.log('stats', JSON.stringify(pool.stats()));
await pool.close();
`);
    expect(result.stdout).toMatch(/^code (CREATE_FAILED|NODE_UNAVAILABLE)$/m);
    expect(result.stdout).toContain('sqlstate 28P01');
    expect(`${result.stdout}${result.stderr}`).not.toContain(wrong);
    expect(`${result.stdout}${result.stderr}`).not.toContain(postgres.server.password);
  });

  it('backend down while idle, then back: the next query succeeds', async () => {
    const [idle, down, up] = [join(signals, 'idle'), join(signals, 'down'), join(signals, 'up')] as const;
    const script = runNodeScript({
      cwd: packageDir,
      timeoutMs: 60_000,
      source: `
import { existsSync, writeFileSync } from 'node:fs';
import { createPgPool } from '@pool/pg';
const waitFor = async (file) => { while (!existsSync(file)) await new Promise((r) => setTimeout(r, 20)); };
const pool = createPgPool({ ...${connection()}, circuitBreaker: { failureThreshold: 5, cooldownMs: 500 } });
console.log('first', (await pool.query('SELECT 1 AS one')).rows[0].one);
writeFileSync(${JSON.stringify(idle)}, '');
await waitFor(${JSON.stringify(down)});
await waitFor(${JSON.stringify(up)});
let answer;
for (let attempt = 0; attempt < 20 && answer === undefined; attempt++) {
  try { answer = (await pool.query('SELECT 2 AS two')).rows[0].two; } catch (e) { console.log('retry', e.code); await new Promise((r) => setTimeout(r, 200)); }
}
console.log('after restart', answer);
await pool.close();
const s = pool.stats();
console.log('balanced', s.created === s.destroyed);
`,
    });
    await waitUntil(() => existsSync(idle));
    await postgres.server.shutdown();
    writeFileSync(down, '');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await postgres.server.start();
    await postgres.reconnectAdmin();
    writeFileSync(up, '');
    const result = await script;
    expect(result.code, describeNodeScript(result)).toBe(0);
    expect(result.stdout).toContain('first 1');
    expect(result.stdout).toContain('after restart 2');
    expect(result.stdout).toContain('balanced true');
  }, 90_000);

  it("the README's first example, as pasted into a .mjs file, against the local server", async () => {
    const example = readmeExample(join(packageDir, 'README.md'));
    expect(example.lang).toBe('js');
    const result = await run(example.code, { env: { DATABASE_URL: postgres.server.connectionString } });
    expect(lines(result)).toEqual(['42', '100']);
  });
});


async function waitUntil(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the script');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
