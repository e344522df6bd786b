import { isPoolError } from '@pool/core';
import { echoRoundTrip } from '@pool/testkit/tcp';
import { loadTestService } from '@pool/testkit/grpc';
import type { Peers } from './peers.js';
import type { Pools } from './pools.js';
import { scrub } from './scrub.js';

/** The kinds of operation the workload runs; `pg-api` and `pg-batch` use the pg pool's partitions. */
export const OPERATIONS = ['pg-api', 'pg-batch', 'http2', 'grpc', 'ssh', 'tcp'] as const;
export type OperationName = (typeof OPERATIONS)[number];

export interface OperationStats {
  ok: number;
  failed: number;
  /** Not started because `maxInFlight` operations of this kind were still running. */
  shed: number;
  inFlight: number;
  /** Latency of the last 200 successful operations, ms. */
  p50Ms: number;
  p99Ms: number;
  lastError?: { code: string; message: string; at: number };
}

/** Each operation gets this long, end to end; nothing the workload starts can hang. */
const OPERATION_TIMEOUT_MS = 3_000;
const MAX_IN_FLIGHT = 48;
const TICK_MS = 50;
const LATENCY_WINDOW = 200;
/** The pg batch partition gets half the rate of the others, with slow queries. */
const RATE_FACTOR: Record<OperationName, number> = { 'pg-api': 1, 'pg-batch': 0.5, http2: 1, grpc: 1, ssh: 1, tcp: 1 };

class Operation {
  credit = 0;
  ok = 0;
  failed = 0;
  shed = 0;
  inFlight = 0;
  latencies: number[] = [];
  latencyIndex = 0;
  lastError: OperationStats['lastError'];

  record(ms: number): void {
    if (this.latencies.length < LATENCY_WINDOW) this.latencies.push(ms);
    else this.latencies[this.latencyIndex] = ms;
    this.latencyIndex = (this.latencyIndex + 1) % LATENCY_WINDOW;
  }

  snapshot(): OperationStats {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
    const stats: OperationStats = {
      ok: this.ok, failed: this.failed, shed: this.shed, inFlight: this.inFlight,
      p50Ms: round(at(0.5)), p99Ms: round(at(0.99)),
    };
    if (this.lastError) stats.lastError = this.lastError;
    return stats;
  }
}

/**
 * A steady, bounded mixed load: `rate` operations per second of each kind, started on a clock
 * (an open loop, like real traffic) and capped at `MAX_IN_FLIGHT` running per kind.
 */
export class Workload {
  #rate: number;
  readonly #operations = new Map<OperationName, Operation>(OPERATIONS.map((name) => [name, new Operation()]));
  readonly #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #lastTick = Date.now();
  #counter = 0;
  readonly #run: Record<OperationName, (signal: AbortSignal) => Promise<unknown>>;

  constructor(pools: Pools, peers: Peers, rate: number, private readonly secrets: readonly string[]) {
    this.#rate = rate;
    const { Health } = loadTestService();
    const httpPath = peers.http2.path;
    this.#run = {
      'pg-api': (signal) => pools.pg.query('SELECT count(*)::int AS n FROM pg_stat_activity', [], {
        partition: 'api', signal, acquireTimeoutMs: 2_000,
      }),
      'pg-batch': (signal) => pools.pg.query('SELECT pg_sleep(0.4)', [], { partition: 'batch', signal, acquireTimeoutMs: 2_000 }),
      http2: async (signal) => {
        const response = await pools.http2.request({ method: 'GET', path: httpPath, signal, acquireTimeoutMs: 2_000 });
        await response.body.text();
        if (response.statusCode >= 500) throw Object.assign(new Error(`HTTP ${response.statusCode}`), { code: `HTTP_${response.statusCode}` });
      },
      grpc: (signal) => pools.grpc.unary(Health, 'Check', { service: '' }, {
        signal,
        callOptions: { deadline: Date.now() + OPERATION_TIMEOUT_MS },
      }),
      ssh: (signal) => pools.ssh.exec(peers.ssh.command, { signal, timeoutMs: OPERATION_TIMEOUT_MS, acquireTimeoutMs: 2_000 }),
      tcp: (signal) => pools.tcp.use(async (socket) => {
        const line = `ping ${++this.#counter}`;
        const reply = await echoRoundTrip(socket, line, signal);
        // A reply meant for another exchange would mean a socket was shared: never expected.
        if (reply !== line) throw Object.assign(new Error(`echo mismatch: sent "${line}", got "${reply}"`), { code: 'ECHO_MISMATCH' });
      }, { signal, timeoutMs: 2_000 }),
    };
  }

  get rate(): number {
    return this.#rate;
  }

  /** Operations per second of each kind; 0 stops the load. */
  setRate(rate: number): void {
    if (!Number.isFinite(rate) || rate < 0 || rate > 200) throw new RangeError(`rate must be from 0 to 200 ops/s; got ${rate}`);
    this.#rate = rate;
  }

  start(): void {
    if (this.#timer) return;
    this.#lastTick = Date.now();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  /** Stops starting operations and waits (at most `timeoutMs`) for the running ones. */
  async stop(timeoutMs = 4_000): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#running]),
      new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
    ]);
    clearTimeout(timer);
  }

  stats(): Record<OperationName, OperationStats> {
    const out = {} as Record<OperationName, OperationStats>;
    for (const [name, operation] of this.#operations) out[name] = operation.snapshot();
    return out;
  }

  #tick(): void {
    const now = Date.now();
    const elapsedS = Math.min(1, (now - this.#lastTick) / 1000);
    this.#lastTick = now;
    for (const [name, operation] of this.#operations) {
      operation.credit = Math.min(operation.credit + this.#rate * RATE_FACTOR[name] * elapsedS, 5);
      while (operation.credit >= 1) {
        operation.credit -= 1;
        if (operation.inFlight >= MAX_IN_FLIGHT) operation.shed += 1;
        else this.#start(name, operation);
      }
    }
  }

  #start(name: OperationName, operation: Operation): void {
    operation.inFlight += 1;
    const started = performance.now();
    const signal = AbortSignal.timeout(OPERATION_TIMEOUT_MS);
    const running: Promise<void> = this.#run[name](signal).then(
      () => {
        operation.ok += 1;
        operation.record(performance.now() - started);
      },
      (error: unknown) => {
        operation.failed += 1;
        operation.lastError = { ...describeError(error, this.secrets), at: Date.now() };
      },
    ).finally(() => {
      operation.inFlight -= 1;
      this.#running.delete(running);
    });
    this.#running.add(running);
  }
}

/** A short, secret-free `{ code, message }` for the dashboard. */
export function describeError(error: unknown, secrets: readonly string[]): { code: string; message: string } {
  const code = isPoolError(error)
    ? error.code
    : String((error as { code?: unknown } | null)?.code ?? (error as Error | null)?.name ?? 'Error');
  const message = error instanceof Error ? error.message : String(error);
  return { code: scrub(code, secrets), message: scrub(message.length > 240 ? `${message.slice(0, 237)}...` : message, secrets) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
