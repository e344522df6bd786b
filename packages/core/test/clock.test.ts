import { describe, expect, it } from 'vitest';
import { systemClock } from '@pool/core';

describe('systemClock', () => {
  it('is wall time after any pause, and never more than a few ms stale under a burst', async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const before = Date.now();
    const sampled = systemClock.now();
    expect(sampled).toBeGreaterThanOrEqual(before);
    expect(sampled).toBeLessThanOrEqual(Date.now());
    // A long synchronous burst still moves: a reading is reused at most 64 times.
    const start = Date.now();
    let last = systemClock.now();
    while (Date.now() - start < 20) last = systemClock.now();
    expect(Date.now() - last).toBeLessThan(10);
  });

  it('runs timers that never keep the process alive once unref()ed', async () => {
    let fired = false;
    const timer = systemClock.setTimeout(() => { fired = true; }, 1);
    timer.unref?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fired).toBe(true);
    const cancelled = systemClock.setTimeout(() => { throw new Error('must not fire'); }, 1);
    systemClock.clearTimeout(cancelled);
    await new Promise((resolve) => setTimeout(resolve, 10));
  });
});
