import { startWorkerBackend } from '../adaptive/backend.js';
import { drive, type CapContestant, type PhaseOutcome } from '../adaptive/drive.js';
import { envNumber, median, ratio, type BenchRow, type BenchTable } from '../harness.js';

// Issue 19's bench: does a pool find a backend's knee by itself? A backend with WORKERS workers and
// a FIFO queue, SERVICE_MS a request, behind @pool/tcp, CALLERS callers in a closed loop.

const WORKERS = 4;
const SERVICE_MS = 2;
const CALLERS = 64;
const DEADLINE_MS = 10 * SERVICE_MS;
const ROUNDS = envNumber('BENCH_ROUNDS', 3);
const ROUND_MS = envNumber('BENCH_ROUND_MS', 2_500);
const WARMUP_MS = envNumber('BENCH_WARMUP_MS', 500);
const GRAY_PHASE_MS = envNumber('BENCH_GRAY_PHASE_MS', 2_500);
const SLOWDOWN = 10;

const FIXED_64 = 'fixed maxPerNode 64';
const ORACLE = `fixed maxPerNode ${WORKERS} (oracle)`;

/** What users set, and the cap that knows the backend's worker count. */
const FIXED_CONTESTANTS: readonly CapContestant[] = [
  { name: FIXED_64, options: { maxPerNode: 64 } },
  { name: ORACLE, options: { maxPerNode: WORKERS } },
];

/**
 * One row per algorithm: what users set (maxPerNode 64) with adaptiveLimit on, each op's own
 * latency and its deadline miss fed back through `lease.release({ latencyMs, dropped })`.
 */
const ADAPTIVE_CONTESTANTS: readonly CapContestant[] = (['gradient2', 'aimd', 'vegas'] as const).map((algorithm) => ({
  name: `adaptive ${algorithm}${algorithm === 'gradient2' ? ' (default)' : ''}, maxPerNode 64`,
  options: { maxPerNode: 64, adaptiveLimit: { algorithm } },
  reportsOutcome: true,
}));

const CONTESTANTS = [...FIXED_CONTESTANTS, ...ADAPTIVE_CONTESTANTS];

const share = (value: number): string => (Number.isFinite(value) ? `${(value * 100).toFixed(0)}%` : '-');
const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '-');

async function kneeRows(): Promise<{ rows: BenchRow[]; served: string }> {
  const backend = await startWorkerBackend([{ workers: WORKERS, serviceMs: SERVICE_MS }]);
  const outcomes = new Map<string, PhaseOutcome[]>(CONTESTANTS.map((c) => [c.name, []]));
  let meanService = NaN;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order so no contestant always runs first (or last) on a shared machine.
      for (let i = 0; i < CONTESTANTS.length; i++) {
        const contestant = CONTESTANTS[(round + i) % CONTESTANTS.length] as CapContestant;
        const [outcome] = await drive(contestant, {
          host: backend.host, ports: backend.ports, callers: CALLERS, deadlineMs: DEADLINE_MS,
          warmupMs: WARMUP_MS, phases: [{ name: 'measure', durationMs: ROUND_MS }],
        });
        if (outcome !== undefined) outcomes.get(contestant.name)?.push(outcome);
      }
    }
    meanService = (await backend.report())[0]?.meanServiceMs ?? NaN;
  } finally {
    await backend.stop();
  }
  const summary = (name: string) => {
    const list = outcomes.get(name) ?? [];
    return {
      opsPerSec: median(list.map((o) => o.opsPerSec)),
      opP50: median(list.map((o) => o.op.p50)),
      opP99: median(list.map((o) => o.op.p99)),
      callerP99: median(list.map((o) => o.caller.p99)),
      limit: median(list.map((o) => o.nodes['n0']?.meanLimit ?? NaN)),
      overDeadline: median(list.map((o) => o.overDeadline / Math.max(1, o.ops))),
    };
  };
  const oracle = summary(ORACLE);
  const rows = CONTESTANTS.map((contestant): BenchRow => {
    const s = summary(contestant.name);
    return {
      group: `knee: 1 node, ${WORKERS} workers`,
      name: contestant.name,
      opsPerSec: s.opsPerSec,
      p50Ms: s.opP50,
      p99Ms: s.opP99,
      ratio: ratio(s.opsPerSec, oracle.opsPerSec),
      metrics: {
        'op p99 vs oracle': ratio(s.opP99, oracle.opP99),
        'caller p99 ms': ms(s.callerP99),
        [`over ${DEADLINE_MS} ms`]: share(s.overDeadline),
        'mean limit': ms(s.limit),
      },
    };
  });
  return { rows, served: `mean measured service time ${meanService.toFixed(2)} ms` };
}

async function grayRows(): Promise<BenchRow[]> {
  const backend = await startWorkerBackend([
    { workers: WORKERS, serviceMs: SERVICE_MS },
    { workers: WORKERS, serviceMs: SERVICE_MS },
  ]);
  const rows: BenchRow[] = [];
  try {
    for (const contestant of CONTESTANTS) {
      backend.setServiceMs(1, SERVICE_MS);
      const outcomes = await drive(contestant, {
        host: backend.host, ports: backend.ports, callers: CALLERS, deadlineMs: DEADLINE_MS, warmupMs: WARMUP_MS,
        phases: [
          { name: 'before', durationMs: GRAY_PHASE_MS },
          { name: `during (n1 ${SLOWDOWN}x slower)`, durationMs: GRAY_PHASE_MS, start: () => backend.setServiceMs(1, SLOWDOWN * SERVICE_MS) },
          { name: 'after (n1 healed)', durationMs: GRAY_PHASE_MS, start: () => backend.setServiceMs(1, SERVICE_MS) },
        ],
      });
      for (const outcome of outcomes) {
        const healthy = outcome.nodes['n0'];
        const slow = outcome.nodes['n1'];
        rows.push({
          group: `gray failure: 2 nodes, ${contestant.name}`,
          name: outcome.name,
          opsPerSec: outcome.opsPerSec,
          p50Ms: outcome.op.p50,
          p99Ms: outcome.op.p99,
          metrics: {
            'n1 in-flight share': share(slow?.inflightShare ?? NaN),
            'n1 completed share': share((slow?.completed ?? 0) / Math.max(1, outcome.ops)),
            'n0 op p99 ms': ms(healthy?.op.p99 ?? NaN),
            'n1 op p99 ms': ms(slow?.op.p99 ?? NaN),
            'caller p99 ms': ms(outcome.caller.p99),
            'limits n0/n1': `${ms(healthy?.meanLimit ?? NaN)}/${ms(slow?.meanLimit ?? NaN)}`,
          },
        });
      }
    }
  } finally {
    await backend.stop();
  }
  return rows;
}

/**
 * Fixed caps against a backend's knee, and a gray failure (one of two nodes 10x slower mid-run).
 * Operation latency is send to reply on the leased socket: what the backend's own queue costs.
 * In a closed loop the caller-seen latency is callers / throughput for every contestant (Little's
 * law), so it is reported but is not what a limit should be judged by.
 */
export async function run(): Promise<BenchTable> {
  // BENCH_ADAPTIVE_ONLY=knee or =gray runs one half.
  const only = process.env['BENCH_ADAPTIVE_ONLY'];
  const knee = only === 'gray' ? { rows: [], served: 'knee not run' } : await kneeRows();
  const gray = only === 'knee' ? [] : await grayRows();
  return {
    title: `Adaptive concurrency: ${CALLERS} callers against a ${WORKERS}-worker FIFO backend (${SERVICE_MS} ms a request)`,
    ratioLabel: 'ops vs oracle',
    rows: [...knee.rows, ...gray],
    notes: [
      `Backend in its own process: ${WORKERS} workers per node and a FIFO queue; a worker is busy ${SERVICE_MS} ms per request through a timer (a slot that waits, as a database worker waits on I/O), not a busy-wait; ${knee.served}.`,
      `Knee rows: median of ${ROUNDS} rotated rounds of ${ROUND_MS} ms after ${WARMUP_MS} ms warm-up; p50/p99 are the op's send→reply latency on the leased socket (the backend's queueing), caller p99 is acquire→release.`,
      `Deadline ${DEADLINE_MS} ms (10x the service time): ops over it are counted, and the adaptive rows release such an op with dropped: true (what AIMD reacts to).`,
      `Gray failure rows: ${GRAY_PHASE_MS} ms per phase; in-flight share = n1's share of the pool's outstanding leases, sampled every 5 ms; default balancer (p2c).`,
      `Adaptive rows: adaptiveLimit { algorithm } with maxPerNode 64, each lease released with { latencyMs: the op's send→reply, dropped: over the deadline }; mean limit sampled every 5 ms. Targets for gradient2: ops >= 0.95x oracle, op p99 <= 1.5x oracle's; gray failure: n1's in-flight share under 30% while slow, back near 50% when healed.`,
    ],
  };
}
