import { describe, expect, it } from 'vitest';
import { checkCallTimeout, holdProcess, holdWhile, nearestName, openProcessHolds, rejectUnknownOptions } from '../src/index.js';

describe('rejectUnknownOptions', () => {
  it('names the unknown option and the nearest known one', () => {
    expect(() => rejectUnknownOptions({ maxPerNod: 1 }, ['maxPerNode', 'maxTotal'])).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', message: 'Unknown option maxPerNod (did you mean maxPerNode?)' }),
    );
  });

  it('gives no hint when nothing known is close', () => {
    expect(() => rejectUnknownOptions({ colour: 'red' }, ['maxPerNode'])).toThrow('Unknown option colour');
    expect(nearestName('colour', ['maxPerNode'])).toBeUndefined();
  });

  it('accepts known names and prefixes nested levels', () => {
    expect(() => rejectUnknownOptions({ maxPerNode: 1 }, new Set(['maxPerNode']))).not.toThrow();
    expect(() => rejectUnknownOptions({ keepAlve: true }, ['keepAlive'], 'connect.')).toThrow('did you mean connect.keepAlive?');
  });
});

describe('checkCallTimeout', () => {
  it('accepts undefined, finite numbers >= 0 and Infinity', () => {
    expect(checkCallTimeout('timeoutMs', undefined)).toBeUndefined();
    expect(checkCallTimeout('timeoutMs', 0)).toBe(0);
    expect(checkCallTimeout('timeoutMs', Infinity)).toBe(Infinity);
  });

  it.each([NaN, '50', -1, null])('refuses %s naming the option', (value) => {
    expect(() => checkCallTimeout('queryTimeoutMs', value)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('queryTimeoutMs') }));
  });
});

describe('holdProcess', () => {
  it('counts holds and closes each once', async () => {
    const before = openProcessHolds();
    const release = holdProcess();
    expect(openProcessHolds()).toBe(before + 1);
    release();
    release();
    expect(openProcessHolds()).toBe(before);
    await holdWhile(Promise.resolve(1));
    await Promise.resolve();
    expect(openProcessHolds()).toBe(before);
  });
});

describe('factory.isRetryable', () => {
  it('a failure the factory calls final is not retried; others are', async () => {
    const { createPool, isPoolError } = await import('../src/index.js');
    let creates = 0;
    const pool = createPool({
      createRetry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
      circuitBreaker: false,
      factory: {
        create: async () => {
          creates++;
          throw Object.assign(new Error(creates === 1 ? 'transient' : 'final'), { isFinal: creates > 1 });
        },
        destroy() {},
        isRetryable: (error) => !(error as { isFinal?: boolean }).isFinal,
      },
    });
    const error = await pool.acquire().catch((caught: unknown) => caught);
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    // First try transient (retried), second final (not retried): two creates of three allowed.
    expect(creates).toBe(2);
    await pool.close();
  });

  it('must be a function when given', async () => {
    const { createPool } = await import('../src/index.js');
    expect(() => createPool({ factory: { create: async () => ({}), destroy() {}, isRetryable: true as never } })).toThrow('factory.isRetryable');
  });
});
