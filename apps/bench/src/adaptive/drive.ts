import { performance } from 'node:perf_hooks';
import { createTcpPool, type TcpPoolOptions } from '@pool/tcp';
import { echoRoundTrip } from '@pool/testkit/tcp';
import { percentiles, type Percentiles } from '../load.js';

/** One way of capping the pool: the pool options that differ between contestants. */
export interface CapContestant {
  name: string;
  /** Options merged over { nodes, acquireTimeoutMs } for createTcpPool. */
  options: Partial<TcpPoolOptions>;
  /** Release each lease with the op's own latency and whether it missed its deadline (adaptive rows). */
  reportsOutcome?: boolean;
}

/** A stretch of the run; `start` is called as it begins (e.g. to slow a node down). */
export interface Phase {
  name: string;
  durationMs: number;
  start?: () => void;
}

export interface NodeOutcome {
  completed: number;
  /** The node's limit in stats(), sampled every 5 ms: mean over the phase. */
  meanLimit: number;
  /** Mean share of the pool's outstanding leases held by this node, sampled every 5 ms, 0..1. */
  inflightShare: number;
  op: Percentiles;
}

export interface PhaseOutcome {
  name: string;
  ops: number;
  opsPerSec: number;
  /** Send to reply on the leased socket: the backend's own queueing plus its service. */
  op: Percentiles;
  /** Acquire to release, what the caller waited in all. */
  caller: Percentiles;
  /** Ops slower than the deadline. */
  overDeadline: number;
  nodes: Record<string, NodeOutcome>;
}

export interface DriveOptions {
  host: string;
  ports: readonly number[];
  callers: number;
  /** An op slower than this counts as over its deadline (a drop, for an algorithm that reads them), ms. */
  deadlineMs: number;
  warmupMs: number;
  phases: readonly Phase[];
}

interface Tally {
  ops: number;
  op: number[];
  caller: number[];
  overDeadline: number;
  nodeOps: Map<string, number[]>;
  shareSums: Map<string, number>;
  limitSums: Map<string, number>;
  shareSamples: number;
  limitSamples: number;
}

/**
 * A closed loop of `callers` against one pool: each acquires, sends one request on the leased
 * socket, waits for its reply and releases. Runs the warm-up (unmeasured), then each phase.
 */
export async function drive(contestant: CapContestant, options: DriveOptions): Promise<PhaseOutcome[]> {
  const nodeIds = options.ports.map((_, index) => `n${index}`);
  const pool = createTcpPool({
    nodes: options.ports.map((port, index) => ({ id: nodeIds[index] as string, host: options.host, port })),
    acquireTimeoutMs: 60_000,
    ...contestant.options,
  });
  let tally: Tally | undefined;
  let sequence = 0;
  let stop = false;
  const loop = async (): Promise<void> => {
    while (!stop) {
      const t0 = performance.now();
      const lease = await pool.acquire();
      const sent = performance.now();
      await echoRoundTrip(lease.connection, `${sequence++}`);
      const replied = performance.now();
      const opMs = replied - sent;
      if (contestant.reportsOutcome === true) await lease.release({ latencyMs: opMs, dropped: opMs > options.deadlineMs });
      else await lease.release();
      const current = tally;
      if (current === undefined) continue;
      current.ops++;
      current.op.push(opMs);
      current.caller.push(performance.now() - t0);
      if (opMs > options.deadlineMs) current.overDeadline++;
      current.nodeOps.get(lease.node.id)?.push(opMs);
    }
  };
  const sampler = setInterval(() => {
    const current = tally;
    if (current === undefined) return;
    const nodes = pool.stats().nodes;
    current.limitSamples++;
    for (const id of nodeIds) current.limitSums.set(id, (current.limitSums.get(id) ?? 0) + (nodes[id]?.limit ?? NaN));
    let total = 0;
    for (const id of nodeIds) total += nodes[id]?.leases ?? 0;
    if (total === 0) return;
    current.shareSamples++;
    for (const id of nodeIds) current.shareSums.set(id, (current.shareSums.get(id) ?? 0) + (nodes[id]?.leases ?? 0) / total);
  }, 5);
  const loops = Array.from({ length: options.callers }, loop);
  const outcomes: PhaseOutcome[] = [];
  try {
    await sleep(options.warmupMs);
    for (const phase of options.phases) {
      phase.start?.();
      const current: Tally = {
        ops: 0, op: [], caller: [], overDeadline: 0, shareSamples: 0, limitSamples: 0,
        nodeOps: new Map(nodeIds.map((id) => [id, []])),
        shareSums: new Map(nodeIds.map((id) => [id, 0])),
        limitSums: new Map(nodeIds.map((id) => [id, 0])),
      };
      tally = current;
      const started = performance.now();
      await sleep(phase.durationMs);
      tally = undefined;
      const elapsed = performance.now() - started;
      const nodes: Record<string, NodeOutcome> = {};
      for (const id of nodeIds) {
        const ops = current.nodeOps.get(id) ?? [];
        nodes[id] = {
          completed: ops.length,
          meanLimit: current.limitSamples > 0 ? (current.limitSums.get(id) ?? 0) / current.limitSamples : NaN,
          inflightShare: current.shareSamples > 0 ? (current.shareSums.get(id) ?? 0) / current.shareSamples : NaN,
          op: percentiles(ops),
        };
      }
      outcomes.push({
        name: phase.name,
        ops: current.ops,
        opsPerSec: (current.ops / elapsed) * 1000,
        op: percentiles(current.op),
        caller: percentiles(current.caller),
        overDeadline: current.overDeadline,
        nodes,
      });
    }
  } finally {
    stop = true;
    clearInterval(sampler);
    await Promise.all(loops);
    await pool.close();
  }
  return outcomes;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
