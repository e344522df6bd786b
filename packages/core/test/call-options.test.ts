import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acquireOptionsOf, createPool, isPoolError } from '@pool/core';
import { FakeClock, trackingFactory } from '@pool/testkit';

const badTimeouts = fc.oneof(
  fc.constant(Number.NaN),
  fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
  fc.constant(-Infinity),
  fc.string(),
  fc.constant(null),
  fc.boolean(),
  fc.constant({}),
);

describe('per-call timeoutMs', () => {
  it('rejects anything but a number >= 0 or Infinity with INVALID_OPTIONS naming timeoutMs, free connection or not', async () => {
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1, clock });
    const held = await pool.acquire();
    await held.release(); // one idle connection: the fast path would serve at once
    const timersBefore = clock.pendingTimers;
    await fc.assert(
      fc.asyncProperty(badTimeouts, async (value) => {
        const error = await pool.acquire({ timeoutMs: value as number }).then(() => undefined, (failure: unknown) => failure);
        expect(isPoolError(error, 'INVALID_OPTIONS')).toBe(true);
        expect((error as Error).message).toMatch(/^Invalid option timeoutMs: got /);
        expect(pool.tryAcquire({ timeoutMs: value as number })).toBeUndefined();
      }),
      { numRuns: 60 },
    );
    expect(pool.stats()).toMatchObject({ waiting: 0, leases: 0, idle: 1 });
    expect(clock.pendingTimers).toBe(timersBefore); // no deadline was armed
    await pool.close();
  });

  it('times out a waiter at any valid timeoutMs, and Infinity never', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 100_000 }), async (timeoutMs) => {
        const clock = new FakeClock();
        const pool = createPool({ factory: trackingFactory(), maxPerNode: 1, clock, healthCheckIntervalMs: 0, idleTimeoutMs: 0, maxLifetimeMs: 0 });
        await pool.acquire();
        let settled: string | undefined;
        void pool.acquire({ timeoutMs }).then(() => (settled = 'lease'), (error: { code: string }) => (settled = error.code));
        const forever = pool.acquire({ timeoutMs: Infinity });
        forever.catch(() => undefined);
        if (timeoutMs > 0) {
          await clock.advance(timeoutMs - 1);
          expect(settled).toBeUndefined();
        }
        await clock.advance(1);
        expect(settled).toBe('ACQUIRE_TIMEOUT');
        await clock.advance(200_000);
        expect(pool.stats().waiting).toBe(1);
        await pool.close();
        await expect(forever).rejects.toMatchObject({ code: 'POOL_CLOSED' });
      }),
      { numRuns: 25 },
    );
  });

  it('reaches a deadline past the longest Node timer in steps, never with a 1 ms timer', async () => {
    // A clock whose timers fire only when the test fires them (the maintenance timer never does).
    let now = 0;
    const timers = new Map<object, { at: number; ms: number; callback: () => void }>();
    const clock = {
      now: () => now,
      setTimeout: (callback: () => void, ms: number) => {
        const timer = {};
        timers.set(timer, { at: now + ms, ms, callback });
        return timer;
      },
      clearTimeout: (timer: object) => void timers.delete(timer),
    };
    const fireDeadline = async (): Promise<number> => {
      const [timer, entry] = [...timers].filter(([, candidate]) => candidate.ms > 1_000).sort((a, b) => a[1].at - b[1].at)[0]!;
      timers.delete(timer);
      now = entry.at;
      entry.callback();
      await new Promise((resolve) => setImmediate(resolve));
      return entry.ms;
    };
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1, clock });
    await pool.acquire();
    const waiting = pool.acquire({ timeoutMs: 5e9 });
    waiting.catch(() => undefined);
    const fired: number[] = [];
    while (now < 5e9) {
      expect(pool.stats().waiting).toBe(1);
      fired.push(await fireDeadline());
    }
    await expect(waiting).rejects.toMatchObject({ code: 'ACQUIRE_TIMEOUT' });
    expect(now).toBe(5e9);
    expect(fired.length).toBeLessThanOrEqual(4); // the first acquire's 30 s deadline, then steps of the longest timer
    expect(fired.every((ms) => ms > 1 && ms <= 0x7fffffff)).toBe(true);
    await pool.close();
  });
});

describe('acquireOptionsOf', () => {
  it('maps acquireTimeoutMs to timeoutMs and refuses bad ones naming acquireTimeoutMs', () => {
    expect(acquireOptionsOf({ acquireTimeoutMs: 50, node: 'a' })).toEqual({ timeoutMs: 50, node: 'a' });
    expect(acquireOptionsOf({ acquireTimeoutMs: Infinity })).toEqual({ timeoutMs: Infinity });
    expect(acquireOptionsOf({})).toEqual({});
    fc.assert(
      fc.property(badTimeouts, (value) => {
        expect(() => acquireOptionsOf({ acquireTimeoutMs: value as number })).toThrow(
          expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringMatching(/^Invalid option acquireTimeoutMs: got /) }),
        );
      }),
      { numRuns: 40 },
    );
  });
});

describe('per-call timeoutMs is checked first', () => {
  it('before the node, the partition and the signal', async () => {
    const pool = createPool({ factory: trackingFactory(), clock: new FakeClock() });
    await expect(pool.acquire({ node: 'nope', partition: 'none', signal: AbortSignal.abort(), timeoutMs: Number.NaN })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await pool.close();
  });
});
