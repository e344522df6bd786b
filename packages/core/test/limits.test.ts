import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AdaptiveLimiter, AimdLimit, Gradient2Limit, VegasLimit, createAdaptiveLimiter, isPoolError, resolveAdaptiveLimit,
  type ConcurrencyLimit, type LimitBounds, type LimitChange,
} from '@pool/core';
import { FakeClock } from '@pool/testkit';

/**
 * A saturated backend with a knee: up to `knee` operations are served in `baseMs`, past it they
 * queue, so latency grows with the concurrency the limit allows (a closed loop keeps it full).
 */
function drive(limit: ConcurrencyLimit, clock: FakeClock, samples: number, model: { knee: number; baseMs: number; deadlineMs?: number }): number[] {
  let seed = 7;
  const noise = (): number => 0.9 + 0.2 * ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const seen: number[] = [];
  for (let i = 0; i < samples; i++) {
    const inflight = limit.limit;
    const latencyMs = model.baseMs * Math.max(1, inflight / model.knee) * noise();
    void clock.advance(0);
    limit.onSample(clock.now(), latencyMs, inflight, latencyMs > (model.deadlineMs ?? Infinity));
    seen.push(limit.limit);
  }
  return seen;
}

const settled = (seen: number[]): { low: number; high: number } => {
  const tail = seen.slice(-1000);
  return { low: Math.min(...tail), high: Math.max(...tail) };
};

describe('Gradient2Limit', () => {
  it('climbs while latency is flat and settles near a knee of 8 (within its 1.5 tolerance)', () => {
    const limit = new Gradient2Limit({ min: 1, max: 64, initial: 1 });
    const seen = drive(limit, new FakeClock(), 5_000, { knee: 8, baseMs: 2 });
    const { low, high } = settled(seen);
    expect(low).toBeGreaterThanOrEqual(8);
    expect(high).toBeLessThanOrEqual(14);
    expect(limit.baselineRtt).toBeGreaterThan(1.8);
    expect(limit.baselineRtt).toBeLessThan(2.2);
  });

  it('backs off to min when the backend becomes 10x slower, and climbs again when it heals', () => {
    const clock = new FakeClock();
    const limit = new Gradient2Limit({ min: 1, max: 64, initial: 1 });
    drive(limit, clock, 3_000, { knee: 8, baseMs: 2 });
    const healthy = limit.limit;
    drive(limit, clock, 500, { knee: 8, baseMs: 20 });
    expect(limit.limit).toBe(1);
    drive(limit, clock, 2_000, { knee: 8, baseMs: 2 });
    expect(limit.limit).toBeGreaterThanOrEqual(Math.min(8, healthy));
  });

  it('halves on a drop (gradient 0.5, smoothed)', () => {
    const limit = new Gradient2Limit({ min: 1, max: 100, initial: 50 });
    for (let i = 0; i < 10; i++) limit.onSample(i, 5, 50, false);
    const before = limit.limit;
    limit.onSample(11, 5, 50, true);
    expect(limit.limit).toBe(Math.floor(before * 0.9));
  });

  it('ignores samples of an app-limited node (fewer than half its limit in flight)', () => {
    const limit = new Gradient2Limit({ min: 1, max: 100, initial: 40 });
    for (let i = 0; i < 100; i++) limit.onSample(i, 1, 3, false);
    expect(limit.limit).toBe(40);
  });
});

describe('AimdLimit', () => {
  it('multiplies by 0.9 on a drop and on a sample over timeoutMs, adds one per round otherwise', () => {
    const limit = new AimdLimit({ min: 1, max: 100, initial: 20, timeoutMs: 100 });
    limit.onSample(0, 5, 20, true);
    expect(limit.limit).toBe(18);
    limit.onSample(1, 150, 18, false);
    expect(limit.limit).toBe(16);
    for (let i = 0; i < 17; i++) limit.onSample(2 + i, 5, 16, false);
    expect(limit.limit).toBe(17);
  });

  it('backs off when drops start past the knee and holds between the knee and the deadline', () => {
    const limit = new AimdLimit({ min: 1, max: 64, initial: 40 });
    // The deadline (2.2x the service time) is broken once more than ~2.2x the knee queue.
    const seen = drive(limit, new FakeClock(), 5_000, { knee: 8, baseMs: 2, deadlineMs: 4.4 });
    const { low, high } = settled(seen);
    expect(low).toBeGreaterThanOrEqual(8);
    expect(high).toBeLessThanOrEqual(20);
  });
});

describe('VegasLimit', () => {
  it('tracks the queue: settles where the estimated queue is within its alpha..beta band', () => {
    const limit = new VegasLimit({ min: 1, max: 64, initial: 1 });
    const seen = drive(limit, new FakeClock(), 5_000, { knee: 8, baseMs: 2 });
    const { low, high } = settled(seen);
    // Queue = limit - knee here; log10 steps of ~1 put the band at a queue of 3..6.
    expect(low).toBeGreaterThanOrEqual(9);
    expect(high).toBeLessThanOrEqual(18);
    expect(limit.noLoadRtt).toBeLessThan(2);
  });

  it('shrinks when the queue passes beta and on a drop', () => {
    const limit = new VegasLimit({ min: 1, max: 100, initial: 50 });
    limit.onSample(0, 10, 50, false);
    limit.onSample(1, 30, 50, false);
    expect(limit.limit).toBe(48);
    limit.onSample(2, 10, 48, true);
    expect(limit.limit).toBe(46);
  });
});

const sample = fc.record({
  latencyMs: fc.oneof(fc.double({ min: 0, max: 10_000, noNaN: true }), fc.constantFrom(0, Infinity, Number.NaN, -1)),
  inflight: fc.nat(200),
  dropped: fc.boolean(),
});
const bounds = fc
  .tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }))
  .map(([min, span, offset]): LimitBounds => ({ min, max: min + span, initial: min + Math.min(span, offset) }));

describe.each([
  ['gradient2', (b: LimitBounds) => new Gradient2Limit(b)],
  ['aimd', (b: LimitBounds) => new AimdLimit({ ...b, timeoutMs: 50 })],
  ['vegas', (b: LimitBounds) => new VegasLimit(b)],
] as const)('%s under random samples', (_name, create) => {
  it('keeps its limit an integer within [min, max]', () => {
    fc.assert(
      fc.property(bounds, fc.array(sample, { maxLength: 300 }), (b, samples) => {
        const limit = create(b);
        let now = 0;
        for (const { latencyMs, inflight, dropped } of samples) {
          limit.onSample(now++, latencyMs, inflight, dropped);
          if (!Number.isInteger(limit.limit) || limit.limit < b.min || limit.limit > b.max) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});

describe('AdaptiveLimiter', () => {
  it('grants a node up to its limit, feeds each end to its algorithm and reports changes', () => {
    const clock = new FakeClock();
    const changes: LimitChange[] = [];
    const times: number[] = [];
    const limiter = new AdaptiveLimiter(
      { min: 1, max: 10, initial: 2 },
      (b) => {
        const inner = new AimdLimit({ ...b, timeoutMs: 100 });
        return { get limit() { return inner.limit; }, onSample: (now, ms, inflight, dropped) => { times.push(now); inner.onSample(now, ms, inflight, dropped); } };
      },
      { clock, onLimitChange: (change) => changes.push(change) },
    );
    expect(limiter.limitOf('a')).toBe(2);
    expect(limiter.mayGrant('a')).toBe(true);
    limiter.onLeaseStart('a');
    limiter.onLeaseStart('a');
    expect(limiter.mayGrant('a')).toBe(false);
    expect(limiter.mayGrant('b')).toBe(true);
    void clock.advance(250);
    limiter.onLeaseEnd('a', 500, false);
    expect(times).toEqual([clock.now()]);
    expect(changes).toEqual([{ node: 'a', limit: 1, previous: 2 }]);
    expect(limiter.inflightOf('a')).toBe(1);
    expect(limiter.mayGrant('a')).toBe(false);
    limiter.onLeaseEnd('a', 5, false);
    expect(limiter.mayGrant('a')).toBe(true);
    limiter.forget('a');
    expect(limiter.limitOf('a')).toBe(2);
  });
});

describe('resolveAdaptiveLimit', () => {
  const caps = { maxPerNode: 16, maxLeasesPerConnection: 2 };
  const refusal = (value: unknown): string => {
    try {
      resolveAdaptiveLimit(value, caps);
    } catch (error) {
      if (isPoolError(error, 'INVALID_OPTIONS')) return error.message;
      throw error;
    }
    throw new Error('accepted');
  };

  it('is off for false and undefined, and defaults the rest', () => {
    expect(resolveAdaptiveLimit(false, caps)).toBe(false);
    expect(resolveAdaptiveLimit(undefined, caps)).toBe(false);
    expect(resolveAdaptiveLimit({}, caps)).toEqual({ algorithm: 'gradient2', min: 1, max: 32, initial: 4 });
    expect(resolveAdaptiveLimit({ algorithm: 'vegas', min: 2, max: 3 }, caps)).toEqual({ algorithm: 'vegas', min: 2, max: 3, initial: 3 });
  });

  it('refuses bad values and unknown names, naming the option', () => {
    expect(refusal(true)).toMatch(/adaptiveLimit: got true/);
    expect(refusal({ algorithm: 'bbr' })).toMatch(/adaptiveLimit\.algorithm: got "bbr", must be one of gradient2, aimd, vegas/);
    expect(refusal({ algoritm: 'aimd' })).toMatch(/Unknown option adaptiveLimit\.algoritm \(did you mean adaptiveLimit\.algorithm\?\)/);
    expect(refusal({ min: 0 })).toMatch(/adaptiveLimit\.min/);
    expect(refusal({ min: 1.5 })).toMatch(/adaptiveLimit\.min/);
    expect(refusal({ max: 33 })).toMatch(/adaptiveLimit\.max: got 33, must be <= maxPerNode × maxLeasesPerConnection \(32\)/);
    expect(refusal({ min: 5, max: 4 })).toMatch(/adaptiveLimit\.max/);
    expect(refusal({ initial: 40 })).toMatch(/adaptiveLimit\.initial/);
    expect(refusal({ initial: Number.NaN })).toMatch(/adaptiveLimit\.initial/);
  });

  it('builds the named algorithm, or nothing when off', () => {
    const clock = new FakeClock();
    expect(createAdaptiveLimiter(false, { clock })).toBeUndefined();
    const limiter = createAdaptiveLimiter(resolveAdaptiveLimit({ algorithm: 'aimd', initial: 3 }, caps) as never, { clock });
    expect(limiter?.limitOf('x')).toBe(3);
  });
});
