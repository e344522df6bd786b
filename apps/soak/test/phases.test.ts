import { describe, expect, it } from 'vitest';
import { transportChecks, heapCheck, type TransportResult } from '../src/checks.js';
import { CommandKilled, errorLabel, WrongResult } from '../src/errors.js';
import { LatencyHistogram } from '../src/histogram.js';
import { connectionCreep, connectionsNeeded, maxTotal, overLimit, perPhaseCounters, PhaseRecord, unexpectedFailures, type Phase, type StatsSample } from '../src/phases.js';

/** Samples every 250 ms of one phase, `created` given per sample. */
function phaseSamples(phase: Phase, startMs: number, created: readonly number[], total = 2): StatsSample[] {
  return created.map((count, index) => ({ atMs: startMs + index * 250, phase, total, created: count, destroyed: 0 }));
}

describe('connectionCreep', () => {
  it('allows creates during the settle window and counts every later one', () => {
    // Phase 3 starts at 10 s: reconnects in its first second, then one more at 11.5 s.
    const samples = [...phaseSamples(2, 7_000, [4, 4, 6]), ...phaseSamples(3, 10_000, [6, 7, 8, 8, 8, 8, 9, 9])];
    expect(connectionCreep(samples, 3, 1_000)).toEqual({ baseline: 8, final: 9, growth: 1 });
  });

  it('reports no growth for a stable phase', () => {
    const samples = phaseSamples(3, 0, [5, 5, 5, 5, 5, 5]);
    expect(connectionCreep(samples, 3, 1_000).growth).toBe(0);
  });

  it('measures from the first reading when the phase is shorter than the settle window', () => {
    expect(connectionCreep(phaseSamples(3, 0, [3, 4]), 3, 5_000)).toEqual({ baseline: 4, final: 4, growth: 0 });
  });

  it('fails loudly without a sample in the phase', () => {
    expect(() => connectionCreep(phaseSamples(1, 0, [1]), 3, 1_000)).toThrow(/no stats sample in phase 3/);
  });
});

describe('phase accounting', () => {
  it('turns boundary readings into created/destroyed per phase', () => {
    const boundaries = [{ created: 0, destroyed: 0 }, { created: 4, destroyed: 0 }, { created: 12, destroyed: 8 }, { created: 12, destroyed: 8 }];
    expect(perPhaseCounters(boundaries)).toEqual([
      { created: 4, destroyed: 0 },
      { created: 8, destroyed: 8 },
      { created: 0, destroyed: 0 },
    ]);
    expect(() => perPhaseCounters(boundaries.slice(1))).toThrow(/4 boundary readings/);
  });

  it('bounds the connections a load needs by callers, leases per connection, nodes and the limit', () => {
    // 20 SSH callers on MaxSessions 10: 2 connections.
    expect(connectionsNeeded({ concurrency: 20, leasesPerConnection: 10, nodes: 1, limit: 4 })).toBe(2);
    // 24 streams over 2 nodes at 8 a session: 3, plus one partly used session on the other node.
    expect(connectionsNeeded({ concurrency: 24, leasesPerConnection: 8, nodes: 2, limit: 20 })).toBe(4);
    // Exclusive connections with more callers than connections: the limit.
    expect(connectionsNeeded({ concurrency: 12, leasesPerConnection: 1, nodes: 2, limit: 8 })).toBe(8);
  });

  it('finds the peak and the samples over the limit', () => {
    const samples = [...phaseSamples(1, 0, [1, 2], 3), ...phaseSamples(2, 500, [2], 5)];
    expect(maxTotal(samples, 1)).toBe(3);
    expect(maxTotal(samples, 2)).toBe(5);
    expect(maxTotal(samples, 3)).toBe(0);
    expect(overLimit(samples, 4).map((sample) => sample.atMs)).toEqual([500]);
  });

  it('keeps failures by label with the first error of each', () => {
    const record = new PhaseRecord();
    record.fail('CREATE_FAILED', () => 'first');
    record.fail('CREATE_FAILED', () => 'second');
    record.fail('ECONNRESET', () => 'reset');
    expect(record.failed).toBe(3);
    expect(record.firstErrors.get('CREATE_FAILED')).toBe('first');
    expect([...unexpectedFailures(record, ['CREATE_FAILED'])]).toEqual([['ECONNRESET', 1]]);
  });
});

describe('transportChecks', () => {
  function result(overrides: Partial<TransportResult> = {}): TransportResult {
    const records = { 1: new PhaseRecord(), 2: new PhaseRecord(), 3: new PhaseRecord() };
    for (const record of Object.values(records)) record.ops = 100;
    records[2].fail('CREATE_FAILED', () => '');
    return {
      name: 'tcp', setup: '', connectionLimit: 4, connectionsNeeded: 2, expectedFaultErrors: ['CREATE_FAILED'], records,
      samples: [...phaseSamples(1, 0, [2, 2]), ...phaseSamples(2, 500, [2, 4]), ...phaseSamples(3, 1_000, [4, 4, 4, 4, 4, 4])],
      boundaries: [{ created: 0, destroyed: 0 }, { created: 2, destroyed: 0 }, { created: 4, destroyed: 2 }, { created: 4, destroyed: 2 }],
      faults: [{ name: 'restart', startedAtMs: 10, tookMs: 5 }],
      destroyReasons: { 1: new Map(), 2: new Map(), 3: new Map() },
      afterDrain: { created: 4, destroyed: 4, leases: 0, total: 0 },
      ...overrides,
    };
  }
  const settings = { opDeadlineMs: 15_000, settleMs: 1_000 };
  const failed = (checked: TransportResult) => transportChecks(checked, settings).filter((check) => !check.isPassed).map((check) => check.name);

  it('passes a clean run', () => {
    expect(failed(result())).toEqual([]);
  });

  it('fails each broken property under its own name', () => {
    const broken = result();
    broken.records[1].fail('ECONNRESET', () => '');
    broken.records[2].fail('WRONG_RESULT', () => '');
    broken.records[3].hung = 1;
    broken.samples.push({ atMs: 3_000, phase: 3, total: 5, created: 5, destroyed: 2 });
    broken.samples.unshift({ atMs: 0, phase: 1, total: 3, created: 3, destroyed: 0 });
    broken.afterDrain = { created: 5, destroyed: 4, leases: 1, total: 1 };
    broken.faults = [{ name: 'restart', startedAtMs: 10, tookMs: 5, error: 'boom' }];
    expect(failed(broken)).toEqual([
      'tcp: zero failed ops in the steady phases',
      'tcp: only expected errors in the fault phase',
      'tcp: every op settled within 15000 ms',
      'tcp: no connection creep in phase 3',
      'tcp: stats().total <= 4 (maxPerNode x nodes) at every sample',
      'tcp: phase 1 uses no more connections than the load needs',
      'tcp: the faults ran and hit the pool',
      'tcp: after drain(): created === destroyed, leases 0',
    ]);
  });

  it('fails a fault phase that destroyed nothing, and a drain that threw', () => {
    const idle = result({
      boundaries: [{ created: 0, destroyed: 0 }, { created: 2, destroyed: 0 }, { created: 2, destroyed: 0 }, { created: 2, destroyed: 0 }],
      afterDrain: { error: 'drain() did not finish' },
    });
    expect(failed(idle)).toEqual(['tcp: the faults ran and hit the pool', 'tcp: after drain(): created === destroyed, leases 0']);
  });

  it('bounds the heap growth and fails without --expose-gc', () => {
    const mb = 1024 * 1024;
    expect(heapCheck(20 * mb, 22 * mb, 5 * mb).isPassed).toBe(true);
    expect(heapCheck(20 * mb, 26 * mb, 5 * mb).isPassed).toBe(false);
    expect(heapCheck(undefined, 26 * mb, 5 * mb).detail).toMatch(/--expose-gc/);
  });
});

describe('errorLabel', () => {
  it('labels by stable code, gRPC status with the pool cause, or name and message', () => {
    const poolError = Object.assign(new Error('x'), { name: 'PoolError', code: 'CREATE_FAILED' });
    expect(errorLabel(poolError)).toBe('CREATE_FAILED');
    expect(errorLabel(Object.assign(new Error('x'), { code: 14, details: 'pool: CREATE_FAILED', cause: poolError }))).toBe('grpc UNAVAILABLE (pool CREATE_FAILED)');
    expect(errorLabel(Object.assign(new Error('x'), { code: 1, details: 'Call cancelled' }))).toBe('grpc CANCELLED');
    expect(errorLabel(new WrongResult('sent a, got b'))).toBe('WRONG_RESULT');
    expect(errorLabel(new CommandKilled('KILL'))).toBe('exit signal SIGKILL');
    expect(errorLabel(new CommandKilled('SIGKILL'))).toBe('exit signal SIGKILL');
    expect(errorLabel(new TypeError('not queryable'))).toBe('TypeError without code: not queryable');
    expect(errorLabel('text')).toBe('thrown string');
  });
});

describe('LatencyHistogram', () => {
  it('gives quantiles within 5% in fixed memory', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.quantile(0.99)).toBe(0);
    for (let ms = 1; ms <= 1_000; ms++) histogram.record(ms);
    expect(histogram.count).toBe(1_000);
    expect(histogram.quantile(0.99)).toBeGreaterThanOrEqual(990);
    expect(histogram.quantile(0.99)).toBeLessThanOrEqual(990 * 1.05);
    expect(histogram.quantile(0.5)).toBeGreaterThanOrEqual(500);
    expect(histogram.quantile(0.5)).toBeLessThanOrEqual(525);
    expect(histogram.quantile(1)).toBe(1_000);
  });
});
