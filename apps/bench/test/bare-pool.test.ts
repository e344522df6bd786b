import { describe, expect, it } from 'vitest';
import { BarePool, Fifo } from '../src/bare-pool.js';
import {
  compare,
  envNumber,
  formatTable,
  median,
  medianRow,
  pairedRatio,
  pairedRounds,
  percentiles,
  rateOf,
  ratio,
  roundOrder,
  runCallers,
  timingFromEnv,
  withRatios,
  type BenchRow,
  type LoadResult,
} from '../src/harness.js';

describe('BarePool', () => {
  it('creates up to max, then queues', async () => {
    let created = 0;
    const pool = new BarePool(() => ({ id: created++ }), 2);
    const a = await pool.acquire();
    const b = await pool.acquire();
    let third: { id: number } | undefined;
    void pool.acquire().then((connection) => {
      third = connection;
    });
    await Promise.resolve();
    expect(created).toBe(2);
    expect(pool.size).toBe(2);
    expect(pool.waiting).toBe(1);
    expect(third).toBeUndefined();
    pool.release(b);
    await Promise.resolve();
    expect(third).toBe(b);
    pool.release(a);
    expect(pool.idleCount).toBe(1);
  });

  it('serves waiters first come, first served', async () => {
    const pool = new BarePool(() => ({}), 1);
    const held = await pool.acquire();
    const order: number[] = [];
    const waiters = Array.from({ length: 40 }, (_, i) =>
      pool.acquire().then((connection) => {
        order.push(i);
        pool.release(connection);
      }),
    );
    pool.release(held);
    await Promise.all(waiters);
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(pool.size).toBe(1);
  });

  it('never holds more than max connections under concurrent callers', async () => {
    let live = 0;
    let peak = 0;
    const pool = new BarePool(() => ({}), 3);
    await runCallers(
      async () => {
        const connection = await pool.acquire();
        live++;
        peak = Math.max(peak, live);
        await new Promise((resolve) => setImmediate(resolve));
        live--;
        pool.release(connection);
      },
      { callers: 10, ops: 200 },
    );
    expect(peak).toBe(3);
    expect(pool.size).toBe(3);
    expect(pool.idleCount).toBe(3);
  });

  it('gives the capacity back when create fails', async () => {
    let shouldFail = true;
    const pool = new BarePool(() => (shouldFail ? Promise.reject(new Error('refused')) : Promise.resolve({})), 1);
    await expect(pool.acquire()).rejects.toThrow('refused');
    expect(pool.size).toBe(0);
    shouldFail = false;
    await expect(pool.acquire()).resolves.toEqual({});
  });

  it('rejects a max that is not a positive integer', () => {
    expect(() => new BarePool(() => ({}), 0)).toThrow(RangeError);
  });
});

describe('Fifo', () => {
  it('keeps order across growth and wrap-around', () => {
    const fifo = new Fifo<number>();
    const expected: number[] = [];
    let next = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 7 + round * 9; i++) fifo.push(next++);
      for (let i = 0; i < 5; i++) expected.push(fifo.shift() as number);
    }
    while (fifo.length > 0) expected.push(fifo.shift() as number);
    expect(expected).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(fifo.shift()).toBeUndefined();
  });
});

describe('harness', () => {
  it('computes nearest-rank percentiles', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    const result = percentiles(samples);
    expect(result).toMatchObject({ count: 100, p50: 50, p99: 99, max: 100, mean: 50.5 });
    expect(samples[0]).toBe(100);
    expect(percentiles([]).count).toBe(0);
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });

  it('formats ratios against a baseline in the same group', () => {
    expect(ratio(150, 100)).toBe('1.50x');
    expect(ratio(1, 0)).toBe('-');
    const rows: BenchRow[] = [
      { group: 'g1', name: 'bare', opsPerSec: 200 },
      { group: 'g1', name: 'pool', opsPerSec: 100 },
      { group: 'g2', name: 'bare', opsPerSec: 50 },
      { group: 'g2', name: 'pool', opsPerSec: 100 },
    ];
    withRatios(rows, 'bare');
    expect(rows.map((row) => row.ratio)).toEqual(['1.00x', '0.50x', '1.00x', '2.00x']);
  });

  it('computes ratios from ops per CPU-second when they were measured', () => {
    expect(rateOf({ name: 'a', opsPerSec: 100 })).toBe(100);
    expect(rateOf({ name: 'a', opsPerSec: 100, opsPerCpuSec: 300 })).toBe(300);
    const rows: BenchRow[] = [
      { name: 'bare', opsPerSec: 100, opsPerCpuSec: 400 },
      { name: 'pool', opsPerSec: 100, opsPerCpuSec: 100 },
    ];
    expect(withRatios(rows, 'bare').map((row) => row.ratio)).toEqual(['1.00x', '0.25x']);
  });

  it('runs exactly the requested op count across callers', async () => {
    const perCaller = new Map<number, number>();
    const result = await runCallers(
      async (caller) => {
        perCaller.set(caller, (perCaller.get(caller) ?? 0) + 1);
        await Promise.resolve();
      },
      { callers: 4, ops: 1000, sampleEvery: 10 },
    );
    expect(result.ops).toBe(1000);
    expect([...perCaller.values()].reduce((a, b) => a + b, 0)).toBe(1000);
    expect([...perCaller.keys()].sort()).toEqual([0, 1, 2, 3]);
    expect(result.latency?.count).toBe(100);
    expect(result.opsPerSec).toBeGreaterThan(0);
  });

  it('stops a time window even when ops never yield to timers', async () => {
    const result = await runCallers(() => Promise.resolve(), { callers: 2, durationMs: 50 });
    expect(result.ops).toBeGreaterThan(0);
    expect(result.elapsedMs).toBeLessThan(5_000);
  });

  it('compares contestants and closes each one', async () => {
    const closed: string[] = [];
    const make = (name: string) => () => ({ name, op: () => Promise.resolve(), close: () => void closed.push(name), describe: () => `${name} done` });
    const rows = await compare([make('a'), make('b')], { callers: 2, rounds: 2, roundMs: 10, warmupMs: 5, sampleEvery: 4, group: 'g' });
    expect(rows.map((row) => [row.group, row.name, row.note])).toEqual([
      ['g', 'a', 'a done'],
      ['g', 'b', 'b done'],
    ]);
    expect(rows.every((row) => row.opsPerSec > 0 && row.p99Ms !== undefined)).toBe(true);
    expect(closed).toEqual(['a', 'b']);
  });

  it('rotates the run order every round and reverses every other cycle when asked', () => {
    const orders = (isReversed: boolean) => Array.from({ length: 6 }, (_, round) => roundOrder(3, round, isReversed).join(''));
    expect(orders(false)).toEqual(['012', '120', '201', '012', '120', '201']);
    expect(orders(true)).toEqual(['012', '120', '201', '210', '021', '102']);
  });

  it('runs paired rounds in rotated order, settling before each window, and keeps one entry per round', async () => {
    const log: string[] = [];
    const contestants = ['a', 'b'].map((name) => ({ op: () => name }));
    let window = 0;
    const series = await pairedRounds(contestants, {
      rounds: 4,
      warmup: async (op) => void log.push(`warm ${String(op(0))}`),
      settle: async (op) => void log.push(`settle ${String(op(0))}`),
      measure: async (op, index): Promise<LoadResult> => {
        log.push(`measure ${String(op(0))}`);
        expect(contestants[index]?.op).toBe(op);
        window++;
        return { ops: 10, elapsedMs: 1, opsPerSec: window, cpuMs: 2, opsPerCpuSec: 5000, latency: percentiles([window]) };
      },
    });
    const order = ['a', 'b', 'b', 'a', 'b', 'a', 'a', 'b'];
    expect(log).toEqual(['warm a', 'warm b', ...order.flatMap((name) => [`settle ${name}`, `measure ${name}`])]);
    expect(series.map((s) => s.opsPerSec)).toEqual([
      [1, 4, 6, 7],
      [2, 3, 5, 8],
    ]);
    expect(series[0]?.cpuUsPerOp).toEqual([200, 200, 200, 200]);
    expect(series[1]?.p99).toEqual([2, 3, 5, 8]);
  });

  it('pairs each round with the baseline round of the same index', () => {
    // Medians alone would say 1.00x; the rounds, paired, say the contestant is always twice as fast.
    expect(pairedRatio([2, 20, 200], [1, 10, 100])).toBe('2.00x');
    expect(medianRow('x', { opsPerSec: [3, 1, 2], p50: [], p99: [] })).toEqual({ name: 'x', opsPerSec: 2 });
    expect(medianRow('x', { opsPerSec: [1], p50: [4, 6], p99: [8] })).toEqual({ name: 'x', opsPerSec: 1, p50Ms: 5, p99Ms: 8 });
  });

  it('hands every sampled latency to the caller when asked', async () => {
    const all: number[] = [0.5];
    const result = await runCallers(() => Promise.resolve(), { callers: 3, ops: 30, sampleEvery: 1, samples: all });
    expect(all).toHaveLength(31);
    expect(result.latency?.count).toBe(30);
  });

  it('reads positive numbers from the environment, else the default', () => {
    const saved = { ...process.env };
    try {
      process.env['BENCH_TEST_NUMBER'] = '12';
      expect(envNumber('BENCH_TEST_NUMBER', 3)).toBe(12);
      for (const bad of ['0', '-1', 'abc', '']) {
        process.env['BENCH_TEST_NUMBER'] = bad;
        expect(envNumber('BENCH_TEST_NUMBER', 3)).toBe(3);
      }
      delete process.env['BENCH_TEST_NUMBER'];
      expect(envNumber('BENCH_TEST_NUMBER', 3)).toBe(3);
      process.env['BENCH_ROUNDS'] = '9';
      delete process.env['BENCH_ROUND_MS'];
      process.env['BENCH_WARMUP_MS'] = '0';
      expect(timingFromEnv({ rounds: 1, roundMs: 2, warmupMs: 3 })).toEqual({ rounds: 9, roundMs: 2, warmupMs: 3 });
    } finally {
      for (const key of ['BENCH_TEST_NUMBER', 'BENCH_ROUNDS', 'BENCH_ROUND_MS', 'BENCH_WARMUP_MS']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('prints a markdown table with only the columns in use', () => {
    const text = formatTable({
      title: 'demo',
      ratioLabel: 'vs bare',
      rows: [
        { name: 'bare', opsPerSec: 1234567.8, ratio: '1.00x' },
        { name: 'a|b', opsPerSec: NaN, metrics: { 'B/idle conn': 412 }, note: 'heap' },
      ],
      notes: ['one note'],
    });
    const lines = text.split('\n');
    expect(lines[0]).toBe('### demo');
    expect(lines[2]).toMatch(/^\| name +\| +ops\/s \| vs bare \| B\/idle conn \| note +\|$/);
    expect(lines[3]).toMatch(/^\| -+ \| -+: \| -+: \| -+: \| -+ \|$/);
    expect(lines[4]).toContain('1,234,568');
    expect(lines[5]).toContain('a\\|b');
    expect(lines[5]).toContain('412');
    expect(text).not.toContain('p50');
    expect(lines.at(-1)).toBe('- one note');
  });
});
