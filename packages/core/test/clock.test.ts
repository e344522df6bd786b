import { describe, expect, it } from 'vitest';
import { systemClock } from '@pool/core';

describe('systemClock', () => {
  it('is wall time, never a stale reading, even right after a long synchronous stretch', () => {
    const start = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(start);
    while (Date.now() - start < 30) {
      // busy: no timer can fire here
    }
    expect(Date.now() - systemClock.now()).toBeLessThanOrEqual(1);
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
