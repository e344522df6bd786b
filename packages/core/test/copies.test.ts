import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PoolError, isPoolError } from '../src/index.js';

// Two transports under `^0.x` ranges can bring two copies of @pool/core into one install.
// A second copy of the sources, loaded from another directory, is a second module instance
// with its own PoolError class, as a nested node_modules/@pool/core would be.
const copyDir = mkdtempSync(join(tmpdir(), 'pool-core-copy-'));
cpSync(fileURLToPath(new URL('../src', import.meta.url)), copyDir, { recursive: true });
const other = (await import(pathToFileURL(join(copyDir, 'index.ts')).href)) as typeof import('../src/index.js');

afterAll(() => rmSync(copyDir, { recursive: true, force: true }));

describe('PoolError across copies of @pool/core', () => {
  it('the copy is a separate class', () => {
    expect(other.PoolError).not.toBe(PoolError);
  });

  it('isPoolError and instanceof recognise an error of the other copy, with its code', () => {
    const foreign = new other.PoolError('ACQUIRE_TIMEOUT', 'timed out');
    expect(isPoolError(foreign)).toBe(true);
    expect(isPoolError(foreign, 'ACQUIRE_TIMEOUT')).toBe(true);
    expect(isPoolError(foreign, 'POOL_CLOSED')).toBe(false);
    expect(foreign instanceof PoolError).toBe(true);
    const local = new PoolError('POOL_CLOSED', 'closed');
    expect(other.isPoolError(local, 'POOL_CLOSED')).toBe(true);
    expect(local instanceof other.PoolError).toBe(true);
  });

  it('an error of a real pool of the other copy is recognised', async () => {
    const pool = other.createPool({ factory: { create: async () => ({}), destroy: () => undefined } });
    await pool.close();
    const error = await pool.acquire().catch((caught: unknown) => caught);
    expect(isPoolError(error, 'POOL_CLOSED')).toBe(true);
  });

  it('look-alikes are not PoolErrors', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'PoolError', code: 'ACQUIRE_TIMEOUT' });
    expect(isPoolError(lookalike)).toBe(false);
    expect(lookalike instanceof PoolError).toBe(false);
    expect(isPoolError(null)).toBe(false);
    expect(isPoolError('PoolError')).toBe(false);
    expect({} instanceof PoolError).toBe(false);
  });

  it('a subclass keeps the ordinary instanceof', () => {
    class Special extends PoolError {}
    expect(new Special('ABORTED', 'a') instanceof Special).toBe(true);
    expect(new PoolError('ABORTED', 'a') instanceof Special).toBe(false);
    expect(new Special('ABORTED', 'a') instanceof PoolError).toBe(true);
    expect(isPoolError(new Special('ABORTED', 'a'), 'ABORTED')).toBe(true);
  });
});
