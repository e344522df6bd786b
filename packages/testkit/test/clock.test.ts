import { describe, expect, it } from 'vitest';
import { FakeClock, trackingFactory } from '@pool/testkit';

describe('FakeClock', () => {
  it('moves only when told, firing due timers in time order', async () => {
    const clock = new FakeClock(1_000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    const cancelled = clock.setTimeout(() => fired.push('never'), 15);
    clock.clearTimeout(cancelled);
    expect(clock.now()).toBe(1_000);
    await clock.advance(15);
    expect(fired).toEqual(['a@1010']);
    expect(clock.now()).toBe(1_015);
    await clock.advance(100);
    expect(fired).toEqual(['a@1010', 'b@1020']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs timers scheduled by timers within the same advance', async () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 5);
    }, 5);
    await clock.advance(10);
    expect(fired).toEqual([5, 10]);
  });
});

describe('trackingFactory', () => {
  it('records creates and destroys and fails nodes on demand', async () => {
    const factory = trackingFactory();
    const signal = new AbortController().signal;
    const connection = await factory.create({ id: 'a' }, { signal, invalidate: () => undefined });
    expect(factory.created).toEqual([connection]);
    factory.failingNodes.add('b');
    await expect(factory.create({ id: 'b' }, { signal, invalidate: () => undefined })).rejects.toThrow(/ECONNREFUSED/);
    factory.destroy(connection, { id: 'a' });
    expect(factory.live.size).toBe(0);
    expect(() => factory.destroy(connection, { id: 'a' })).toThrow(/destroyed twice/);
  });
});
