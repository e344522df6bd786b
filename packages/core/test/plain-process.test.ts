import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectExitCode, readmeExample, runNodeScript } from '@pool/testkit';

// Scripts run as `node script.mjs` in a child process with cwd in this package, importing the
// built dist (`@pool/core` resolves to the package itself): nothing of the test runner holds
// their event loop, so a promise the pool leaves unheld ends them with exit code 13.
const packageDir = fileURLToPath(new URL('..', import.meta.url));

function run(source: string, timeoutMs = 15_000) {
  return runNodeScript({ cwd: packageDir, source, timeoutMs });
}

describe('plain node process', () => {
  it("the issue's script: a held lease and timeoutMs prints ACQUIRE_TIMEOUT and exits 0", async () => {
    const result = await run(`
import { createPool } from '@pool/core';
const pool = createPool({ maxPerNode: 1, factory: { create: async () => ({}), destroy() {} } });
await pool.acquire();
try { await pool.acquire({ timeoutMs: 500 }); } catch (e) { console.log(e.code); }
console.log('printed');
`);
    expectExitCode(result);
    expect(result.stdout).toBe('ACQUIRE_TIMEOUT\nprinted\n');
    expect(result.durationMs).toBeGreaterThan(450);
  });

  it('a failing factory: CREATE_FAILED after the retries, exit 0', async () => {
    const result = await run(`
import { createPool } from '@pool/core';
const pool = createPool({
  createRetry: { attempts: 3, baseDelayMs: 200, maxDelayMs: 200 },
  factory: { create: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:1'); }, destroy() {} },
});
try { await pool.acquire(); } catch (e) { console.log(e.code, e.cause.message); }
`);
    expectExitCode(result);
    expect(result.stdout).toBe('CREATE_FAILED connect ECONNREFUSED 127.0.0.1:1\n');
  });

  it('a create that takes 300 ms on an unref()ed timer: the pending create keeps the process alive', async () => {
    const result = await run(`
import { createPool } from '@pool/core';
const pool = createPool({
  factory: {
    create: () => new Promise((resolve) => setTimeout(() => resolve({ id: 1 }), 300).unref()),
    destroy() {},
  },
});
const lease = await pool.acquire();
console.log('got', lease.connection.id);
await lease.release();
await pool.drain();
`);
    expectExitCode(result);
    expect(result.stdout).toBe('got 1\n');
  });

  it('a drain, health() and removeNode waiting on unref()ed work keep the process alive until they settle', async () => {
    const result = await run(`
import { createPool } from '@pool/core';
const later = (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
const pool = createPool({
  nodes: [{ id: 'a' }, { id: 'b' }],
  factory: {
    create: async () => ({}),
    // A destroy and a validation that wait on a socket the driver unrefs, as an HTTP/2 session's.
    destroy: () => later(200),
    validate: () => later(200, true),
  },
});
const lease = await pool.acquire({ node: 'b' });
await lease.release();
console.log('health', (await pool.health()).healthy);
await pool.removeNode('b');
console.log('removed', pool.nodes.length);
await (await pool.acquire()).release();
await pool.drain();
console.log('drained', pool.stats().destroyed);
`);
    expectExitCode(result);
    expect(result.stdout).toBe('health true\nremoved 1\ndrained 2\n');
  });

  it('a retry backoff on unref()ed timers: the acquire is served by the second try', async () => {
    const result = await run(`
import { createPool } from '@pool/core';
let tries = 0;
const pool = createPool({
  createRetry: { attempts: 2, baseDelayMs: 400, maxDelayMs: 400 },
  factory: {
    create: () => new Promise((resolve, reject) => setTimeout(() => (++tries === 1 ? reject(new Error('not yet')) : resolve({ tries })), 50).unref()),
    destroy() {},
  },
});
const lease = await pool.acquire();
console.log('served after', lease.connection.tries, 'tries');
`);
    expectExitCode(result);
    expect(result.stdout).toBe('served after 2 tries\n');
  });

  it('a validation pending on an unref()ed timer keeps the process alive until the lease', async () => {
    const result = await run(`
import { createPool } from '@pool/core';
const pool = createPool({
  maxPerNode: 1,
  validateOnAcquire: true,
  factory: {
    create: async () => ({}),
    destroy() {},
    validate: () => new Promise((resolve) => setTimeout(() => resolve(true), 300).unref()),
  },
});
await (await pool.acquire()).release();
const lease = await pool.acquire();
console.log('validated');
await lease.release();
`);
    expectExitCode(result);
    expect(result.stdout).toBe('validated\n');
  });

  it('a script that drains exits at once, and one that leaves an idle pool exits too', async () => {
    const drained = await run(`
import { createPool } from '@pool/core';
const pool = createPool({ minIdlePerNode: 2, factory: { create: async () => ({}), destroy() {} } });
await pool.use(() => 'done');
await pool.drain();
console.log(JSON.stringify(process.getActiveResourcesInfo().filter((name) => name === 'Timeout')));
`);
    expectExitCode(drained);
    expect(drained.stdout).toBe('[]\n');
    const idle = await run(`
import { createPool } from '@pool/core';
const pool = createPool({ minIdlePerNode: 2, factory: { create: async () => ({}), destroy() {} } });
console.log(await pool.use(() => 'used'));
`);
    expectExitCode(idle);
    expect(idle.stdout).toBe('used\n');
    // Neither waits for the maintenance timer or an acquire deadline (30 s by default).
    expect(drained.durationMs).toBeLessThan(5_000);
    expect(idle.durationMs).toBeLessThan(5_000);
  });
});

describe("the README's first example, run from the README itself", () => {
  it('prints PING and exits 0 on its own (its drain leaves nothing holding the process)', async () => {
    const example = readmeExample(fileURLToPath(new URL('../README.md', import.meta.url)));
    expect(example.lang).toBe('js');
    const result = await run(example.code);
    expectExitCode(result);
    expect(result.stdout).toBe('PING\n');
    expect(result.stderr).toBe('');
  });
});
